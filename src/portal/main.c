#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <glib-unix.h>

#include "imzala-http-session.h"
#include "imzala-portal-ca.h"
#include "imzala-portal-enrol.h"
#include "imzala-portal-pki.h"
#include "imzala-portal-listener.h"
#include "imzala-portal-server.h"
#include "imzala-portal-store.h"

static char *opt_state;
static char *opt_listen;
static int opt_lifetime = 300;
static int opt_session_lifetime = IMZALA_PORTAL_SESSION_LIFETIME;
static char *opt_public_url;
static char **opt_extra_ca;
static char *opt_tckn;
static char *opt_name;
static char *opt_word;
static char *opt_institution;
static char *opt_sicil;
static char *opt_card_dir;
static char *opt_key = NULL;
static int opt_valid_days = 730;
static char *opt_level;
static char **opt_level_for;
static char *opt_tsa_url;
static char *opt_reason;
static char *opt_phone;
static int opt_handshake_timeout = IMZALA_PORTAL_HANDSHAKE_TIMEOUT;
static int opt_idle_timeout = IMZALA_PORTAL_IDLE_TIMEOUT;
static int opt_max_per_address = IMZALA_PORTAL_MAX_PER_ADDRESS;
static int opt_max_connections = IMZALA_PORTAL_MAX_CONNECTIONS;
static char **opt_trusted_proxy;

static const GOptionEntry server_entries[] = {
  { "state", 0, 0, G_OPTION_ARG_FILENAME, &opt_state,
    "Directory for the database, the demo CA and the TLS certificate", "DIR" },
  { "listen", 0, 0, G_OPTION_ARG_STRING, &opt_listen,
    "Address and port to listen on (default localhost:8443; port 0 picks a free one)", "ADDR:PORT" },
  { "code-lifetime", 0, 0, G_OPTION_ARG_INT, &opt_lifetime,
    "Seconds a doğrulama kodu stays valid (default 300)", "SECONDS" },
  { "session-lifetime", 0, 0, G_OPTION_ARG_INT, &opt_session_lifetime,
    "Seconds a browser session (its cookie) stays valid after it is made (default 43200, 12 hours)", "SECONDS" },
  { "public-url", 0, 0, G_OPTION_ARG_STRING, &opt_public_url,
    "The URL browsers and İmzala use (default https://localhost:PORT)", "URL" },
  { "extra-ca", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_extra_ca,
    "Also trust signers from this CA (PEM; repeatable; for tests)", "FILE" },
  { "signature-level", 0, 0, G_OPTION_ARG_STRING, &opt_level,
    "Signature level every request asks for: BES (default), T or XL", "LEVEL" },
  { "signature-level-for", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_level_for,
    "Signature level of one purpose (login, consent, application; repeatable)", "PURPOSE=LEVEL" },
  { "tsa-url", 0, 0, G_OPTION_ARG_STRING, &opt_tsa_url,
    "Time-stamping authority that T and XL requests name (default: the portal's own /pki/tsa)", "URL" },
  { "handshake-timeout", 0, 0, G_OPTION_ARG_INT, &opt_handshake_timeout,
    "Seconds a client has for the TLS handshake (default 10)", "SECONDS" },
  { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &opt_idle_timeout,
    "Seconds a client has for each request, from the handshake or the request's first byte "
    "(default 30); a kept connection waits this long or 5 s, whichever is shorter, for its next",
    "SECONDS" },
  { "max-connections-per-address", 0, 0, G_OPTION_ARG_INT, &opt_max_per_address,
    "Open connections one address (an IPv6 /64) may hold (default 48)", "N" },
  { "max-connections", 0, 0, G_OPTION_ARG_INT, &opt_max_connections,
    "Open connections in all (default 512)", "N" },
  { "trusted-proxy", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_trusted_proxy,
    "A reverse proxy's address or network (nginx; 10.0.0.0/24): the client of its requests is the "
    "last address of their X-Forwarded-For, and it has no per-address connection cap (repeatable)",
    "ADDR[/PREFIX]" },
  { NULL }
};

static const GOptionEntry revoke_entries[] = {
  { "reason", 0, 0, G_OPTION_ARG_STRING, &opt_reason,
    "keyCompromise (default: a lost or stolen card), affiliationChanged, superseded, "
    "cessationOfOperation or unspecified", "REASON" },
  { NULL }
};

static const GOptionEntry enrol_entries[] = {
  { "tckn", 0, 0, G_OPTION_ARG_STRING, &opt_tckn, "T.C. kimlik no", "N" },
  { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name, "Name as on the certificate, e.g. \"AYŞE YILMAZ\"", "NAME" },
  { "security-word", 0, 0, G_OPTION_ARG_STRING, &opt_word, "Security word (güvenlik sözcüğü)", "WORD" },
  { "institution", 0, 0, G_OPTION_ARG_STRING, &opt_institution, "Institution (default MEB)", "NAME" },
  { "sicil-no", 0, 0, G_OPTION_ARG_STRING, &opt_sicil, "Institution's staff number", "S" },
  { "card-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_card_dir,
    "Directory for the SoftHSM demo card (softhsm2.conf + tokens)", "DIR" },
  { "key", 0, 0, G_OPTION_ARG_STRING, &opt_key, "Key type: rsa2048 (default), p256, p384", "TYPE" },
  { "phone", 0, 0, G_OPTION_ARG_STRING, &opt_phone,
    "Mobile number the unblock code is sent to (default " IMZALA_PORTAL_DEMO_PHONE ")", "05XXXXXXXXX" },
  { "valid-days", 0, 0, G_OPTION_ARG_INT, &opt_valid_days,
    "Days the demo certificate is valid (default 730)", "DAYS" },
  { NULL }
};

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
parse_listen (const char *text, GInetAddress **address, guint16 *port, GError **error)
{
  g_autofree char *host = NULL;
  const char *colon = strrchr (text, ':');
  guint64 number;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &number, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--listen wants ADDR:PORT, not “%s”", text);
      return FALSE;
    }
  host = g_strndup (text, colon - text);
  if (host[0] == '[' && g_str_has_suffix (host, "]"))
    {
      memmove (host, host + 1, strlen (host));
      host[strlen (host) - 1] = '\0';
    }
  *port = (guint16) number;
  if (g_str_equal (host, "localhost"))
    {
      *address = NULL;
      return TRUE;
    }
  *address = g_inet_address_new_from_string (host);
  if (*address == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "“%s” is not an IP address (or localhost)", host);
      return FALSE;
    }
  return TRUE;
}

static int
run_enrol (ImzalaPortalCa *ca, ImzalaPortalStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *serial = NULL;
  ImzalaPortalEnrolment enrolment = {
    .tckn = opt_tckn,
    .name = opt_name,
    .security_word = opt_word,
    .institution = opt_institution != NULL ? opt_institution : "MEB",
    .sicil_no = opt_sicil,
    .card_dir = opt_card_dir,
    .key_type = opt_key,
    .valid_days = opt_valid_days > 0 ? (guint) opt_valid_days : 730,
    .phone = opt_phone,
  };

  if (opt_tckn == NULL || opt_name == NULL || opt_word == NULL || opt_sicil == NULL || opt_card_dir == NULL)
    {
      g_printerr ("enrol needs --tckn, --name, --security-word, --sicil-no and --card-dir\n");
      return 2;
    }
  serial = imzala_portal_enrol (ca, store, &enrolment, &error);
  if (serial == NULL)
    {
      g_printerr ("Could not enrol %s: %s\n", opt_tckn, error->message);
      return 1;
    }
  g_print ("Enrolled %s (%s). Demo card serial %s in %s/softhsm2.conf.\n"
           "DEMO ONLY: user PIN %s, PUK %s.\n",
           opt_name, opt_tckn, serial, opt_card_dir,
           IMZALA_PORTAL_DEMO_USER_PIN, IMZALA_PORTAL_DEMO_PUK);
  return 0;
}

/* Revokes the certificates of the person (a lost card): the portal's CRL
 * and OCSP say "revoked" from now on, and the portal refuses them. */
static int
run_revoke (ImzalaPortalCa *ca, ImzalaPortalStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaPortalPki) pki = NULL;
  g_autoptr(GPtrArray) serials = NULL;
  int reason = imzala_portal_pki_reason_from_name (opt_reason != NULL ? opt_reason : "keyCompromise");

  if (opt_tckn == NULL)
    {
      g_printerr ("revoke needs --tckn\n");
      return 2;
    }
  if (reason < 0)
    {
      g_printerr ("Unknown revocation reason “%s”\n", opt_reason);
      return 2;
    }
  pki = imzala_portal_pki_load_or_create (opt_state, ca, store, &error);
  if (pki == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  serials = imzala_portal_store_revoke_person (store, opt_tckn, reason,
                                               g_get_real_time () / G_USEC_PER_SEC, &error);
  if (serials == NULL)
    {
      g_printerr ("Could not revoke: %s\n", error->message);
      return 1;
    }
  if (serials->len == 0)
    {
      g_printerr ("%s has no certificate of this portal that is not revoked already.\n", opt_tckn);
      return 1;
    }
  for (guint i = 0; i < serials->len; i++)
    {
      g_print ("Revoked certificate %s of %s (%s).\n", (char *) g_ptr_array_index (serials, i),
               opt_tckn, imzala_portal_pki_reason_to_name (reason));
      imzala_portal_store_log (store, "revoked", opt_tckn, 0, NULL, g_ptr_array_index (serials, i));
    }
  if (!imzala_portal_pki_write_crl (pki, &error))
    {
      g_printerr ("The certificates are revoked, but the CRL file could not be written: %s\n",
                  error->message);
      return 1;
    }
  return 0;
}

static int
run_server (ImzalaPortalCa *ca, ImzalaPortalStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(ImzalaPortalServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(ImzalaPortalPki) pki = NULL;
  g_autoptr(GPtrArray) proxies = g_ptr_array_new_with_free_func (g_object_unref);
  X509_STORE *trust;
  guint16 port = 8443;

  if (opt_lifetime < 1 || opt_lifetime > 3600)
    {
      g_printerr ("--code-lifetime must be between 1 and 3600 seconds\n");
      return 2;
    }
  if (opt_session_lifetime < 1 || opt_session_lifetime > IMZALA_PORTAL_SESSION_LIFETIME)
    {
      g_printerr ("--session-lifetime must be between 1 and %d seconds\n", IMZALA_PORTAL_SESSION_LIFETIME);
      return 2;
    }
  if (opt_handshake_timeout < 1 || opt_handshake_timeout > 600
      || opt_idle_timeout < 1 || opt_idle_timeout > 3600)
    {
      g_printerr ("--handshake-timeout and --idle-timeout must be between 1 and 600 / 3600 seconds\n");
      return 2;
    }
  if (opt_max_per_address < 1 || opt_max_connections < 1 || opt_max_connections > 100000)
    {
      g_printerr ("--max-connections-per-address and --max-connections must be at least 1\n");
      return 2;
    }
  for (guint i = 0; opt_trusted_proxy != NULL && opt_trusted_proxy[i] != NULL; i++)
    {
      /* "ADDR" is that address alone; "ADDR/PREFIX" a network (a load
       * balancer's pool). A prefix over 128 is refused here: GLib would
       * warn about its property's range before it refused it. */
      const char *slash = strchr (opt_trusted_proxy[i], '/');
      GInetAddressMask *proxy = NULL;

      if (slash == NULL || g_ascii_string_to_unsigned (slash + 1, 10, 0, 128, NULL, NULL))
        proxy = g_inet_address_mask_new_from_string (opt_trusted_proxy[i], NULL);

      if (proxy == NULL)
        {
          g_printerr ("--trusted-proxy: “%s” is not an IP address or network (ADDR or ADDR/PREFIX)\n",
                      opt_trusted_proxy[i]);
          return 2;
        }
      g_ptr_array_add (proxies, proxy);
    }
  if (opt_listen != NULL && !parse_listen (opt_listen, &address, &port, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  trust = imzala_portal_ca_new_trust_store (ca, (const char * const *) opt_extra_ca, &error);
  if (trust == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  server = imzala_portal_server_new (store, ca, trust, (guint) opt_lifetime, &error);
  if (server == NULL)
    {
      g_printerr ("Could not start the server: %s\n", error->message);
      return 1;
    }
  imzala_portal_server_set_session_lifetime (server, (guint) opt_session_lifetime);
  imzala_portal_server_set_connection_limits (server, (guint) opt_handshake_timeout,
                                              (guint) opt_idle_timeout, (guint) opt_max_per_address,
                                              (guint) opt_max_connections);
  for (guint i = 0; i < proxies->len; i++)
    imzala_portal_server_add_trusted_proxy (server, g_ptr_array_index (proxies, i));
  if (opt_public_url != NULL)
    {
      if (!g_str_has_prefix (opt_public_url, "https://") || !g_uri_is_valid (opt_public_url, G_URI_FLAGS_NONE, NULL))
        {
          g_printerr ("--public-url must be an https:// URL\n");
          return 2;
        }
      imzala_portal_server_set_public_url (server, opt_public_url);
    }
  if (opt_level != NULL && !imzala_portal_server_set_signature_level (server, NULL, opt_level))
    {
      g_printerr ("--signature-level must be BES, T or XL\n");
      return 2;
    }
  for (guint i = 0; opt_level_for != NULL && opt_level_for[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (opt_level_for[i], "=", 2);

      if (g_strv_length (parts) != 2 || !imzala_portal_server_set_signature_level (server, parts[0], parts[1]))
        {
          g_printerr ("--signature-level-for wants PURPOSE=LEVEL (login, consent, application; BES, T, XL)\n");
          return 2;
        }
    }
  if (opt_tsa_url != NULL)
    {
      if (!g_str_has_prefix (opt_tsa_url, "https://") || !g_uri_is_valid (opt_tsa_url, G_URI_FLAGS_NONE, NULL))
        {
          g_printerr ("--tsa-url must be an https:// URL\n");
          return 2;
        }
      imzala_portal_server_set_tsa_url (server, opt_tsa_url);
    }
  if (!imzala_portal_server_listen (server, address, port, &error))
    {
      g_printerr ("Could not listen: %s\n", error->message);
      return 1;
    }
  /* The certificates issued from now on (the PKI services' at their first
   * start, later enrolments') name this origin in their AIA and CRL
   * distribution points. */
  if (!imzala_portal_ca_set_public_url (ca, imzala_portal_server_get_public_url (server), TRUE, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  pki = imzala_portal_pki_load_or_create (opt_state, ca, store, &error);
  if (pki == NULL)
    {
      g_printerr ("Could not start the PKI services: %s\n", error->message);
      return 1;
    }
  imzala_portal_server_set_pki (server, pki);

  /* Tests and scripts read these two lines to find the portal. */
  g_print ("imzala-portal listening on %s\n", imzala_portal_server_get_public_url (server));
  g_print ("portal CA (give it to İmzala with --portal-ca): %s\n", imzala_portal_ca_get_root_file (ca));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);
  return 0;
}

int
main (int argc, char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaPortalCa) ca = NULL;
  g_autoptr(ImzalaPortalStore) store = NULL;
  g_autofree char *db = NULL;
  GOptionGroup *group;

  setlocale (LC_ALL, "");
  /* Before any thread and any connection: TLS 1.3 only
   * (IMZALA_PORTAL_TLS_PRIORITY says why). */
  imzala_http_init_tls_policy (IMZALA_PORTAL_TLS_PRIORITY);
  /* glibc gives the top of the heap back to the kernel once 128 KiB of it
   * are free, and a submission frees that much (SQLite's page buffers, the
   * check's certificates): each one shrank the heap with brk() (a TLB
   * shootdown across the threads) and grew it again, and faulted the pages
   * in anew. Kept, what a request frees serves the next one: brk() 2 → 0
   * calls and 9-10 → 1.3-2 page faults a submission behind nginx (issue
   * 12; `strace -c`, /proc/PID/stat's minflt). At most 16 MiB free stays
   * with the process after a burst. */
  mallopt (M_TRIM_THRESHOLD, 16 * 1024 * 1024);
  mallopt (M_TOP_PAD, 1024 * 1024);

  context = g_option_context_new ("[enrol|revoke] — the İmzala reference portal");
  g_option_context_set_summary (context,
                                "Serves the demo portal over HTTPS, or with “enrol” registers a demo\n"
                                "person and makes their SoftHSM demo card, or with “revoke” revokes\n"
                                "a person's card (lost or stolen).");
  g_option_context_add_main_entries (context, server_entries, NULL);
  group = g_option_group_new ("enrol", "Options of “enrol”:", "Show the options of enrol", NULL, NULL);
  g_option_group_add_entries (group, enrol_entries);
  g_option_context_add_group (context, group);
  group = g_option_group_new ("revoke", "Options of “revoke” (with --tckn):", "Show the options of revoke",
                              NULL, NULL);
  g_option_group_add_entries (group, revoke_entries);
  g_option_context_add_group (context, group);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (opt_state == NULL)
    {
      g_printerr ("--state DIR is required\n");
      return 2;
    }
  if (argc > 2 || (argc == 2 && !g_str_equal (argv[1], "enrol") && !g_str_equal (argv[1], "revoke")))
    {
      g_printerr ("Unknown command “%s”\n", argv[1]);
      return 2;
    }

  if (g_mkdir_with_parents (opt_state, 0700) != 0)
    {
      g_printerr ("Could not make %s\n", opt_state);
      return 1;
    }
  ca = imzala_portal_ca_load_or_create (opt_state, &error);
  if (ca == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  db = g_build_filename (opt_state, "portal.sqlite3", NULL);
  store = imzala_portal_store_open (db, &error);
  if (store == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  if (opt_public_url != NULL && argc == 2)
    {
      if (!g_str_has_prefix (opt_public_url, "https://") || !g_uri_is_valid (opt_public_url, G_URI_FLAGS_NONE, NULL))
        {
          g_printerr ("--public-url must be an https:// URL\n");
          return 2;
        }
      imzala_portal_ca_set_public_url (ca, opt_public_url, FALSE, NULL);
    }
  if (argc == 2 && g_str_equal (argv[1], "revoke"))
    return run_revoke (ca, store);
  if (argc == 2)
    return run_enrol (ca, store);
  return run_server (ca, store);
}
