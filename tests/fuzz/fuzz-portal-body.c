/* fuzz-portal-body.c: libFuzzer harness for the portal's reading of request
 * bodies, through the real server: the routes of imzala-portal-client-api.c
 * and imzala-portal-browser-api.c with their early handler, the JSON body
 * parser (imzala_portal_http_parse_body()), the base64 and CMS checks of a
 * submitted signature, and the form fields.
 *
 * The portal is made as main.c makes it (a demo CA and an SQLite store in a
 * temporary directory), with one enrolled person and two pending requests
 * (a consent with two texts, an unblock). Each input is one HTTP request fed
 * to the SoupServer over an in-memory stream (soup_server_accept_iostream():
 * no socket, no TLS): its first byte chooses the route, the rest is the
 * body. Each request comes from another address, so the rate limiters do
 * not stop the fuzzer at the door, and a request that a rejection closed is
 * replaced by a new pending one.
 */
#define G_LOG_DOMAIN "fuzz-portal-body"

#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "imzala-portal-ca.h"
#include "imzala-portal-code.h"
#include "imzala-portal-server-private.h"
#include "imzala-portal-store.h"

#define TCKN "12345678950"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char *state_dir;
static ImzalaPortalStore *store;
static ImzalaPortalServer *server;
static char *consent_code;
static char *unblock_code;
static guint32 client_number;

static void
remove_state_dir (void)
{
  g_autofree char *command = NULL;

  if (state_dir == NULL || g_getenv ("IMZALA_TEST_KEEP") != NULL)
    return;
  command = g_strdup_printf ("rm -rf '%s'", state_dir);
  if (system (command) != 0)
    g_printerr ("fuzz-portal-body: could not remove %s\n", state_dir);
}

/* A pending request of @purpose that stays pending for a day. */
static char *
add_request (const char *purpose)
{
  g_autoptr(ImzalaPortalRequest) request = g_new0 (ImzalaPortalRequest, 1);
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  request->public_id = imzala_portal_random_hex (16);
  request->code = imzala_portal_code_generate ();
  request->purpose = g_strdup (purpose);
  request->person = g_strdup (TCKN);
  request->nonce = imzala_portal_random_bytes (32);
  request->created_at = now;
  request->expires_at = now + 24 * 60 * 60;
  request->titles = g_ptr_array_new_with_free_func (g_free);
  request->texts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  if (g_str_equal (purpose, "consent"))
    {
      for (guint i = 0; i < 2; i++)
        {
          g_ptr_array_add (request->titles, g_strdup_printf ("Metin %u", i + 1));
          g_ptr_array_add (request->texts, g_bytes_new_take (g_strdup_printf ("Metin %u", i + 1), 7));
        }
    }
  if (!imzala_portal_store_add_request (store, request, &error))
    g_error ("fuzz-portal-body: %s", error->message);
  return g_strdup (request->code);
}

/* A request that a rejection failed (or anything else closed) is replaced. */
static void
keep_pending (char **code, const char *purpose)
{
  g_autoptr(ImzalaPortalRequest) request = imzala_portal_store_get_request_by_code (store, *code);

  if (request != NULL && request->state == IMZALA_PORTAL_STATE_PENDING)
    return;
  g_free (*code);
  *code = add_request (purpose);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaPortalCa) ca = NULL;
  g_autofree char *db = NULL;
  ImzalaPortalPerson person = {
    .tckn = (char *) TCKN,
    .name = (char *) "AYŞE YILMAZ",
    .security_word_hash = (char *) "",
    .institution = (char *) "Kurum",
    .sicil_no = (char *) "12345",
    .card_serial = (char *) "0123456789ABCDEF",
    .card_puk = (char *) "87654321",
    .certificate_not_after = g_get_real_time () / G_USEC_PER_SEC + 365 * 24 * 60 * 60,
  };

  state_dir = g_dir_make_tmp ("imzala-fuzz-portal-XXXXXX", &error);
  if (state_dir == NULL)
    g_error ("fuzz-portal-body: %s", error->message);
  atexit (remove_state_dir);
  ca = imzala_portal_ca_load_or_create (state_dir, &error);
  if (ca == NULL)
    g_error ("fuzz-portal-body: %s", error->message);
  db = g_build_filename (state_dir, "portal.sqlite3", NULL);
  store = imzala_portal_store_open (db, &error);
  if (store == NULL || !imzala_portal_store_put_person (store, &person, &error))
    g_error ("fuzz-portal-body: %s", error->message);
  server = imzala_portal_server_new (store, ca, imzala_portal_ca_new_trust_store (ca, NULL, NULL),
                                     300, &error);
  if (server == NULL)
    g_error ("fuzz-portal-body: %s", error->message);
  imzala_portal_server_set_public_url (server, "https://localhost:8443");
  consent_code = add_request ("consent");
  unblock_code = add_request ("unblock");
  return 0;
}

static void
request_finished_cb (SoupServer        *soup,
                     SoupServerMessage *msg,
                     gpointer           user_data)
{
  *(gboolean *) user_data = TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GOutputStream) output = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GInetAddress) local_ip = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GInetAddress) remote_ip = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocketAddress) remote = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) http = g_string_new (NULL);
  g_autofree char *path = NULL;
  gboolean finished = FALSE;
  gulong handler;
  guint8 remote_bytes[4];
  guint32 number;

  if (size == 0)
    return -1;
  keep_pending (&consent_code, "consent");
  keep_pending (&unblock_code, "unblock");
  switch (data[0] % 8)
    {
    case 0: path = g_strdup_printf ("/api/v1/requests/%s/signatures", consent_code); break;
    case 1: path = g_strdup_printf ("/api/v1/requests/%s/unblock", unblock_code); break;
    case 2: path = g_strdup_printf ("/api/v1/requests/%s/unblock-result", unblock_code); break;
    case 3: path = g_strdup ("/api/v1/browser/login"); break;
    case 4: path = g_strdup ("/api/v1/browser/consent"); break;
    case 5: path = g_strdup ("/api/v1/browser/unblock"); break;
    case 6: path = g_strdup ("/api/v1/browser/application/login"); break;
    default: path = g_strdup ("/api/v1/browser/application/form"); break;
    }
  data++;
  size--;

  g_string_append_printf (http,
                          "POST %s HTTP/1.1\r\n"
                          "Host: localhost\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: %zu\r\n"
                          "Connection: close\r\n\r\n", path, size);
  g_string_append_len (http, (const char *) data, (gssize) size);

  /* 10.0.0.0/8, one address per input. */
  number = ++client_number;
  remote_bytes[0] = 10;
  remote_bytes[1] = (number >> 16) & 0xff;
  remote_bytes[2] = (number >> 8) & 0xff;
  remote_bytes[3] = number & 0xff;
  remote_ip = g_inet_address_new_from_bytes (remote_bytes, G_SOCKET_FAMILY_IPV4);
  local = g_inet_socket_address_new (local_ip, 8443);
  remote = g_inet_socket_address_new (remote_ip, 40000);

  input = g_memory_input_stream_new_from_data (g_memdup2 (http->str, http->len), (gssize) http->len,
                                               g_free);
  output = g_memory_output_stream_new_resizable ();
  stream = g_simple_io_stream_new (input, output);

  handler = g_signal_connect (server->soup, "request-finished", G_CALLBACK (request_finished_cb),
                              &finished);
  if (!soup_server_accept_iostream (server->soup, stream, local, remote, &error))
    g_error ("fuzz-portal-body: %s", error->message);
  while (!finished)
    g_main_context_iteration (NULL, TRUE);
  /* The connection closes after the answer (Connection: close). */
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  g_signal_handler_disconnect (server->soup, handler);

  g_assert (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (output)) > 0);
  return 0;
}
