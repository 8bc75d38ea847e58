/* test-portal-pki.c: the reference portal as a small PKI (issue 10, item
 * 4; docs/protocol.md §8.9-11, §11.1), end to end with independent tools.
 *
 * The real imzala-portal runs on 127.0.0.1 with a free port; the demo
 * person is enrolled while it runs, so that her certificate's AIA and CRL
 * distribution point name the running portal. OpenSSL's own command-line
 * tools are the other side: `openssl ocsp` asks the portal's responder (at
 * the URL from the certificate), `openssl ts -query` / `-verify` use its TSA
 * (the query POSTed with curl), `openssl cms -verify -crl_check` uses its
 * CRL. Then the lost card: `imzala-portal revoke` and the same signature is
 * refused by the portal (libsoup and `imzala-cli portal`) with the Turkish
 * reason, and OCSP and the CRL say revoked. The T and XL levels are checked
 * with signatures made on the SoftHSM card and extended here with the
 * portal's own time-stamps and OCSP responses.
 *
 * $IMZALA_PORTAL and $IMZALA_CLI are set by tests/meson.build.
 */
#define G_LOG_DOMAIN "test-portal-pki"

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/cms.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "imzala-cades.h"
#include "imzala-portal-server.h"
#include "imzala-test.h"
#include "imzala-verifier.h"

#define AYSE_TCKN "12345678950"
#define DEMO_PIN  "123456"
#define OID_SIGNATURE_TIME_STAMP "1.2.840.113549.1.9.16.2.14"
#define OID_CERT_VALUES          "1.2.840.113549.1.9.16.2.23"
#define OID_REVOCATION_VALUES    "1.2.840.113549.1.9.16.2.24"

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *output;
  char             *url;
  SoupSession      *session;
} Portal;

static char *tmp_dir;
static char *state_dir;
static char *card_dir;
static char *root_ca;
static char *issuing_ca;     /* PEM, fetched from /pki/ca.crt */
static char *person_pem;     /* the demo card's certificate */
static char *card_conf;      /* the demo card's softhsm2.conf */
static Portal *portal;
static ImzalaModuleSet *modules;
static GPtrArray *tokens;
static ImzalaCertificate *ayse_cert;

/* ---- Processes ---- */

static char *
tmp_file (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* Runs @argv (searched in PATH), returns its exit status and its outputs. */
static int
run (char **out, char **err, const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &o, &e, &status, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %s%s", argv[0], o, e);
  if (out != NULL)
    *out = g_steal_pointer (&o);
  if (err != NULL)
    *err = g_steal_pointer (&e);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static char *
read_line_after (GDataInputStream *output, const char *marker)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *line = g_data_input_stream_read_line_utf8 (output, NULL, NULL, &error);
      const char *found;

      g_assert_no_error (error);
      g_assert_nonnull (line);
      found = strstr (line, marker);
      if (found != NULL)
        return g_strstrip (g_strdup (found + strlen (marker)));
    }
}

/* A test that aborts must not leave its portals running (they would keep
 * the test's output open, so the harness would wait for them). */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* @option, @value: one more option for the portal (nullable). */
static Portal *
portal_start_full (const char *level, const char *option, const char *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  Portal *p = g_new0 (Portal, 1);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  p->process = g_subprocess_launcher_spawn (launcher, &error,
                                            g_getenv ("IMZALA_PORTAL"), "--state", state_dir,
                                            "--listen", "127.0.0.1:0",
                                            "--signature-level", level != NULL ? level : "BES",
                                            option, value, NULL);
  g_assert_no_error (error);
  p->output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p->process));
  p->url = read_line_after (p->output, "listening on ");
  g_free (read_line_after (p->output, "--portal-ca): "));

  database = g_tls_file_database_new (root_ca, &error);
  g_assert_no_error (error);
  p->session = soup_session_new ();
  soup_session_set_tls_database (p->session, database);
  soup_session_add_feature_by_type (p->session, SOUP_TYPE_COOKIE_JAR);
  return p;
}

static Portal *
portal_start (const char *level)
{
  return portal_start_full (level, NULL, NULL);
}

static void
portal_stop (Portal *p)
{
  g_subprocess_send_signal (p->process, SIGTERM);
  g_subprocess_wait (p->process, NULL, NULL);
  g_object_unref (p->output);
  g_object_unref (p->process);
  g_object_unref (p->session);
  g_free (p->url);
  g_free (p);
}

/* ---- HTTP ---- */

static GBytes *
http (Portal *p, const char *method, const char *path, const char *type, GBytes *body, guint *status)
{
  g_autofree char *url = g_str_has_prefix (path, "https://") ? g_strdup (path) : g_strconcat (p->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GUri) site = g_uri_parse (p->url, G_URI_FLAGS_NONE, NULL);
  g_autoptr(GError) error = NULL;
  GBytes *answer;

  soup_message_set_first_party (msg, site);
  soup_message_set_site_for_cookies (msg, site);
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, type, body);
  answer = soup_session_send_and_read (p->session, msg, NULL, &error);
  g_assert_no_error (error);
  *status = soup_message_get_status (msg);
  return answer;
}

static JsonObject *
http_json (Portal *p, const char *method, const char *path, const char *json, guint *status)
{
  g_autoptr(GBytes) body = json != NULL ? g_bytes_new (json, strlen (json)) : NULL;
  g_autoptr(GBytes) answer = http (p, method, path, "application/json", body, status);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

typedef struct
{
  char       *code;        /* canonical */
  char       *display;
  char       *request_id;
  JsonObject *request;     /* the client API's answer */
} Login;

static void
login_free (Login *login)
{
  g_free (login->code);
  g_free (login->display);
  g_free (login->request_id);
  g_clear_pointer (&login->request, json_object_unref);
  g_free (login);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Login, login_free)

/* An E-imzalı Giriş request for the demo person, fetched as İmzala does. */
static Login *
login_new (Portal *p)
{
  g_autoptr(JsonObject) created = NULL;
  g_autofree char *path = NULL;
  Login *login = g_new0 (Login, 1);
  GString *code = g_string_new (NULL);
  guint status = 0;

  created = http_json (p, "POST", "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", &status);
  g_assert_cmpuint (status, ==, 201);
  login->display = g_strdup (json_object_get_string_member (created, "code"));
  login->request_id = g_strdup (json_object_get_string_member (created, "request_id"));
  for (const char *c = login->display; *c != '\0'; c++)
    if (*c != '-')
      g_string_append_c (code, *c);
  login->code = g_string_free (code, FALSE);
  path = g_strconcat ("/api/v1/requests/", login->code, NULL);
  login->request = http_json (p, "GET", path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  return login;
}

static GBytes *
login_text (Login *login)
{
  JsonArray *texts = json_object_get_array_member (login->request, "texts");
  gsize length = 0;
  guchar *data = g_base64_decode (json_object_get_string_member (json_array_get_object_element (texts, 0),
                                                                 "content"), &length);

  return g_bytes_new_take (data, length);
}

/* Submits @cms for @login; returns the answer, the status in @status. */
static JsonObject *
login_submit (Portal *p, Login *login, GBytes *cms, guint *status)
{
  g_autofree char *b64 = g_base64_encode (g_bytes_get_data (cms, NULL), g_bytes_get_size (cms));
  g_autofree char *body = g_strdup_printf ("{\"version\": 1, \"nonce\": \"%s\", \"signatures\": [\"%s\"]}",
                                           json_object_get_string_member (login->request, "nonce"), b64);
  g_autofree char *path = g_strconcat ("/api/v1/requests/", login->code, "/signatures", NULL);

  return http_json (p, "POST", path, body, status);
}

static const char *
error_code (JsonObject *answer)
{
  return json_object_get_string_member (json_object_get_object_member (answer, "error"), "code");
}

static const char *
error_message (JsonObject *answer)
{
  return json_object_get_string_member (json_object_get_object_member (answer, "error"), "message");
}

/* ---- Signatures ---- */

static GBytes *
sign_bes (GBytes *content)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (DEMO_PIN);
  ImzalaToken *token = imzala_module_set_find_token (tokens, ayse_cert);
  GBytes *cms = imzala_token_sign_cms (token, ayse_cert, pin, content, IMZALA_CMS_NONE, NULL, &error);

  g_assert_no_error (error);
  return cms;
}

static GBytes *
bytes_from_openssl (unsigned char *der, int length)
{
  GBytes *bytes;

  g_assert_cmpint (length, >, 0);
  bytes = g_bytes_new (der, length);
  OPENSSL_free (der);
  return bytes;
}

/* A time-stamp token (DER ContentInfo) from the portal's TSA over
 * SHA-256(@data), made and read with OpenSSL's TS API. */
static GBytes *
time_stamp_token (const guchar *data, gsize length)
{
  TS_REQ *query = TS_REQ_new ();
  TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new ();
  X509_ALGOR *algorithm = X509_ALGOR_new ();
  guchar digest[32];
  gsize digest_length = sizeof digest;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  unsigned char *der = NULL;
  int der_length;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) reply = NULL;
  const unsigned char *p;
  TS_RESP *response;
  guint status = 0;
  GBytes *token;

  g_checksum_update (checksum, data, length);
  g_checksum_get_digest (checksum, digest, &digest_length);
  X509_ALGOR_set0 (algorithm, OBJ_nid2obj (NID_sha256), V_ASN1_NULL, NULL);
  TS_MSG_IMPRINT_set_algo (imprint, algorithm);
  TS_MSG_IMPRINT_set_msg (imprint, digest, (int) digest_length);
  TS_REQ_set_version (query, 1);
  TS_REQ_set_msg_imprint (query, imprint);
  TS_REQ_set_cert_req (query, 1);
  der_length = i2d_TS_REQ (query, &der);
  body = bytes_from_openssl (der, der_length);
  X509_ALGOR_free (algorithm);
  TS_MSG_IMPRINT_free (imprint);
  TS_REQ_free (query);

  reply = http (portal, "POST", "/pki/tsa", "application/timestamp-query", body, &status);
  g_assert_cmpuint (status, ==, 200);
  p = g_bytes_get_data (reply, NULL);
  response = d2i_TS_RESP (NULL, &p, (long) g_bytes_get_size (reply));
  g_assert_nonnull (response);
  g_assert_cmpint (ASN1_INTEGER_get (TS_STATUS_INFO_get0_status (TS_RESP_get_status_info (response))), ==,
                   TS_STATUS_GRANTED);
  der = NULL;
  der_length = i2d_PKCS7 (TS_RESP_get_token (response), &der);
  token = bytes_from_openssl (der, der_length);
  TS_RESP_free (response);
  return token;
}

/* The DER header of a constructed value. */
static void
der_wrap (GByteArray *out, guint8 tag, const guint8 *inner, gsize length)
{
  g_byte_array_append (out, &tag, 1);
  if (length < 0x80)
    {
      guint8 l = (guint8) length;
      g_byte_array_append (out, &l, 1);
    }
  else
    {
      guint8 l[4] = { 0x83, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff };
      g_assert_cmpuint (length, <, 1 << 24);
      g_byte_array_append (out, l, 4);
    }
  g_byte_array_append (out, inner, length);
}

static void
add_unsigned (CMS_SignerInfo *signer_info, const char *oid, const guint8 *der, gsize length)
{
  ASN1_OBJECT *object = OBJ_txt2obj (oid, 1);

  g_assert_cmpint (CMS_unsigned_add1_attr_by_OBJ (signer_info, object, V_ASN1_SEQUENCE, der, (int) length), ==, 1);
  ASN1_OBJECT_free (object);
}

static X509 *
read_pem_cert (const char *path)
{
  FILE *file = fopen (path, "r");
  X509 *cert;

  g_assert_nonnull (file);
  cert = PEM_read_X509 (file, NULL, NULL, NULL);
  fclose (file);
  g_assert_nonnull (cert);
  return cert;
}

/* The portal's OCSP answer for the demo card, a DER OCSPResponse. */
static GBytes *
ocsp_response (void)
{
  X509 *issuer = read_pem_cert (issuing_ca);
  OCSP_REQUEST *request = OCSP_REQUEST_new ();
  OCSP_CERTID *id = OCSP_cert_to_id (NULL, imzala_certificate_get_x509 (ayse_cert), issuer);
  unsigned char *der = NULL;
  int der_length;
  g_autoptr(GBytes) body = NULL;
  GBytes *reply;
  guint status = 0;

  g_assert_nonnull (OCSP_request_add0_id (request, id));
  der_length = i2d_OCSP_REQUEST (request, &der);
  body = bytes_from_openssl (der, der_length);
  OCSP_REQUEST_free (request);
  X509_free (issuer);

  reply = http (portal, "POST", "/pki/ocsp", "application/ocsp-request", body, &status);
  g_assert_cmpuint (status, ==, 200);
  return reply;
}

/* The same as a DER BasicOCSPResponse (what revocation-values hold). */
static GBytes *
basic_ocsp_response (void)
{
  g_autoptr(GBytes) reply = ocsp_response ();
  const unsigned char *p = g_bytes_get_data (reply, NULL);
  OCSP_RESPONSE *response = d2i_OCSP_RESPONSE (NULL, &p, (long) g_bytes_get_size (reply));
  OCSP_BASICRESP *basic;
  unsigned char *der = NULL;
  int der_length;
  GBytes *result;

  g_assert_nonnull (response);
  g_assert_cmpint (OCSP_response_status (response), ==, OCSP_RESPONSE_STATUS_SUCCESSFUL);
  basic = OCSP_response_get1_basic (response);
  der_length = i2d_OCSP_BASICRESP (basic, &der);
  result = bytes_from_openssl (der, der_length);
  OCSP_BASICRESP_free (basic);
  OCSP_RESPONSE_free (response);
  return result;
}

/* The issuing CA's certificate, DER. */
static GBytes *
issuing_ca_der (void)
{
  X509 *issuer = read_pem_cert (issuing_ca);
  unsigned char *der = NULL;
  int der_length = i2d_X509 (issuer, &der);

  X509_free (issuer);
  return bytes_from_openssl (der, der_length);
}

typedef enum
{
  EXTEND_T,
  EXTEND_T_WRONG_IMPRINT,
  EXTEND_XL,
  EXTEND_XL_NO_REVOCATION_VALUES,
  EXTEND_VALUES_WITHOUT_REFERENCES,
} Extension;

/* @bes with unsigned attributes added, as a CAdES-T or -X-L client adds
 * them (unsigned: the signature stays valid). */
static GBytes *
extend (GBytes *bes, Extension how)
{
  const unsigned char *p = g_bytes_get_data (bes, NULL);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (bes));
  CMS_SignerInfo *signer_info;
  ASN1_OCTET_STRING *signature;
  g_autoptr(GBytes) token = NULL;
  unsigned char *der = NULL;
  int der_length;
  GBytes *result;

  g_assert_nonnull (cms);
  signer_info = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);
  signature = CMS_SignerInfo_get0_signature (signer_info);
  if (how == EXTEND_T_WRONG_IMPRINT)
    token = time_stamp_token ((const guchar *) "another signature", 17);
  else
    token = time_stamp_token (ASN1_STRING_get0_data (signature), ASN1_STRING_length (signature));
  add_unsigned (signer_info, OID_SIGNATURE_TIME_STAMP, g_bytes_get_data (token, NULL), g_bytes_get_size (token));

  if (how == EXTEND_VALUES_WITHOUT_REFERENCES)
    {
      /* certificate-values and revocation-values alone, without the
       * CAdES-C references that make them X-L. */
      g_autoptr(GByteArray) certs = g_byte_array_new ();
      g_autoptr(GByteArray) cert_values = g_byte_array_new ();
      GBytes *signer_der = imzala_certificate_get_der (ayse_cert);
      g_autoptr(GBytes) basic = basic_ocsp_response ();
      g_autoptr(GByteArray) list = g_byte_array_new ();
      g_autoptr(GByteArray) tagged = g_byte_array_new ();
      g_autoptr(GByteArray) values = g_byte_array_new ();

      g_byte_array_append (certs, g_bytes_get_data (signer_der, NULL), g_bytes_get_size (signer_der));
      der_wrap (cert_values, 0x30, certs->data, certs->len);
      add_unsigned (signer_info, OID_CERT_VALUES, cert_values->data, cert_values->len);
      /* RevocationValues ::= SEQUENCE { ocspVals [1] SEQUENCE OF BasicOCSPResponse } */
      der_wrap (list, 0x30, g_bytes_get_data (basic, NULL), g_bytes_get_size (basic));
      der_wrap (tagged, 0xa1, list->data, list->len);
      der_wrap (values, 0x30, tagged->data, tagged->len);
      add_unsigned (signer_info, OID_REVOCATION_VALUES, values->data, values->len);
    }

  der_length = i2d_CMS_ContentInfo (cms, &der);
  result = bytes_from_openssl (der, der_length);
  CMS_ContentInfo_free (cms);

  if (how == EXTEND_XL || how == EXTEND_XL_NO_REVOCATION_VALUES)
    {
      /* X-L as İmzala's own signer makes it (imzala-cades.c): the
       * issuing CA's certificate and the portal's OCSP response as
       * CAdES-C references and X-L values. */
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) certificates = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      g_autoptr(GBytes) response = how == EXTEND_XL ? ocsp_response () : NULL;
      ImzalaCadesRevocation revocation = { response, NULL };
      g_autoptr(GPtrArray) revocations = g_ptr_array_new ();
      GBytes *t_level = result;

      g_ptr_array_add (certificates, issuing_ca_der ());
      if (response != NULL)
        g_ptr_array_add (revocations, &revocation);
      result = imzala_cades_add_validation_data (t_level, certificates, revocations, &error);
      g_assert_no_error (error);
      g_bytes_unref (t_level);
    }
  return result;
}

/* X-L whose OCSP reference has lost its value: the revocation-values
 * attribute taken out again. */
static GBytes *
xl_reference_without_value (GBytes *bes)
{
  g_autoptr(GBytes) xl = extend (bes, EXTEND_XL);
  const unsigned char *p = g_bytes_get_data (xl, NULL);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (xl));
  CMS_SignerInfo *signer_info = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);
  ASN1_OBJECT *object = OBJ_txt2obj (OID_REVOCATION_VALUES, 1);
  int index = CMS_unsigned_get_attr_by_OBJ (signer_info, object, -1);
  unsigned char *der = NULL;
  int der_length;

  g_assert_cmpint (index, >=, 0);
  X509_ATTRIBUTE_free (CMS_unsigned_delete_attr (signer_info, index));
  ASN1_OBJECT_free (object);
  der_length = i2d_CMS_ContentInfo (cms, &der);
  CMS_ContentInfo_free (cms);
  return bytes_from_openssl (der, der_length);
}

/* ---- Tests ---- */

/* The demo card's certificate names the running portal's services. */
static void
test_certificate_urls (void)
{
  g_autofree char *out = NULL;
  g_autofree char *expected_ocsp = g_strconcat (portal->url, "/pki/ocsp\n", NULL);
  g_autofree char *expected_ca = g_strconcat ("CA Issuers - URI:", portal->url, "/pki/ca.crt", NULL);
  g_autofree char *expected_crl = g_strconcat ("URI:", portal->url, "/pki/ca.crl", NULL);
  const char *ocsp_uri[] = { "openssl", "x509", "-in", person_pem, "-noout", "-ocsp_uri", NULL };
  const char *text[] = { "openssl", "x509", "-in", person_pem, "-noout", "-ext",
                         "authorityInfoAccess,crlDistributionPoints", NULL };

  g_assert_cmpint (run (&out, NULL, ocsp_uri), ==, 0);
  g_assert_cmpstr (out, ==, expected_ocsp);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, NULL, text), ==, 0);
  g_assert_nonnull (strstr (out, expected_ca));
  g_assert_nonnull (strstr (out, expected_crl));
}

/* `openssl ocsp` against the portal's responder: the URL from the
 * certificate, the response verified against the root. */
static void
assert_ocsp_status (const char *expected)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *url = g_strconcat (portal->url, "/pki/ocsp", NULL);
  g_autofree char *line = g_strconcat (person_pem, ": ", expected, "\n", NULL);
  const char *argv[] = { "openssl", "ocsp", "-issuer", issuing_ca, "-cert", person_pem, "-url", url,
                         "-CAfile", root_ca, "-nonce", NULL };

  g_assert_cmpint (run (&out, &err, argv), ==, 0);
  g_assert_nonnull (strstr (err, "Response verify OK"));
  g_assert_true (g_str_has_prefix (out, line));
  if (g_str_equal (expected, "revoked"))
    g_assert_nonnull (strstr (out, "Reason: keyCompromise"));
}

static void
test_ocsp_good (void)
{
  assert_ocsp_status ("good");
}

/* GET /pki/ocsp/<base64> (RFC 6960 A.1) gives the same answer, and a
 * request for a serial the portal never issued is "unknown". */
static void
test_ocsp_get_and_unknown (void)
{
  g_autofree char *request = tmp_file ("ocsp-get.req");
  g_autofree char *response = tmp_file ("ocsp-get.resp");
  g_autofree char *out = NULL;
  g_autofree char *der = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GBytes) answer = NULL;
  gsize length = 0;
  guint status = 0;
  const char *make[] = { "openssl", "ocsp", "-issuer", issuing_ca, "-cert", person_pem,
                         "-serial", "0x1234", "-no_nonce", "-reqout", request, NULL };
  const char *check[] = { "openssl", "ocsp", "-respin", response, "-issuer", issuing_ca,
                          "-cert", person_pem, "-serial", "0x1234", "-CAfile", root_ca, NULL };

  g_assert_cmpint (run (NULL, NULL, make), ==, 0);
  g_assert_true (g_file_get_contents (request, &der, &length, NULL));
  b64 = g_base64_encode ((const guchar *) der, length);
  escaped = g_uri_escape_string (b64, NULL, FALSE);
  path = g_strconcat ("/pki/ocsp/", escaped, NULL);
  answer = http (portal, "GET", path, NULL, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_true (g_file_set_contents (response, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), NULL));
  g_assert_cmpint (run (&out, NULL, check), ==, 0);
  g_assert_nonnull (strstr (out, ": good"));
  g_assert_nonnull (strstr (out, "0x1234: unknown"));
}

/* The TSA: a query made by `openssl ts -query`, POSTed with curl, and the
 * reply accepted by `openssl ts -verify`; the policy is the documented one
 * and the TSA certificate's timeStamping purpose is critical. */
static void
test_tsa (void)
{
  g_autofree char *data = tmp_file ("tsa-data.txt");
  g_autofree char *query = tmp_file ("tsa.tsq");
  g_autofree char *reply = tmp_file ("tsa.tsr");
  g_autofree char *url = g_strconcat (portal->url, "/pki/tsa", NULL);
  g_autofree char *data_arg = g_strconcat ("@", query, NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *make[] = { "openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", query, NULL };
  const char *post[] = { "curl", "--silent", "--fail", "--cacert", root_ca, "-H",
                         "Content-Type: application/timestamp-query", "--data-binary", data_arg,
                         "-o", reply, url, NULL };
  const char *show[] = { "openssl", "ts", "-reply", "-in", reply, "-text", NULL };
  const char *verify[] = { "openssl", "ts", "-verify", "-in", reply, "-queryfile", query,
                           "-CAfile", root_ca, "-untrusted", issuing_ca, NULL };
  const char *verify_data[] = { "openssl", "ts", "-verify", "-in", reply, "-data", person_pem,
                                "-CAfile", root_ca, "-untrusted", issuing_ca, NULL };

  g_assert_true (g_file_set_contents (data, "İmzala zaman damgası denemesi\n", -1, NULL));
  g_assert_cmpint (run (NULL, NULL, make), ==, 0);
  g_assert_cmpint (run (NULL, NULL, post), ==, 0);
  g_assert_cmpint (run (&out, NULL, show), ==, 0);
  g_assert_nonnull (strstr (out, "Status: Granted."));
  g_assert_nonnull (strstr (out, "Policy OID: 2.25.59601230959495850842836317110049736348.1"));
  g_assert_nonnull (strstr (out, "Hash Algorithm: sha256"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (&out, &err, verify), ==, 0);
  g_assert_nonnull (strstr (out, "Verification: OK"));
  g_clear_pointer (&out, g_free);
  /* The token is for that data, not any other. */
  g_assert_cmpint (run (&out, NULL, verify_data), !=, 0);
  g_assert_null (strstr (out, "Verification: OK"));
}

/* Wrong levels and purposes are refused at start. */
static void
test_level_options (void)
{
  const char *bad_level[] = { g_getenv ("IMZALA_PORTAL"), "--state", state_dir, "--listen", "127.0.0.1:0",
                              "--signature-level", "LT", NULL };
  const char *bad_purpose[] = { g_getenv ("IMZALA_PORTAL"), "--state", state_dir, "--listen", "127.0.0.1:0",
                                "--signature-level-for", "unblock=T", NULL };
  const char *bad_tsa[] = { g_getenv ("IMZALA_PORTAL"), "--state", state_dir, "--listen", "127.0.0.1:0",
                            "--tsa-url", "http://tsa.example/", NULL };

  g_assert_cmpint (run (NULL, NULL, bad_level), ==, 2);
  g_assert_cmpint (run (NULL, NULL, bad_purpose), ==, 2);
  g_assert_cmpint (run (NULL, NULL, bad_tsa), ==, 2);
}

/* Garbage is answered with a rejection, not a token. */
static void
test_tsa_garbage (void)
{
  g_autoptr(GBytes) body = g_bytes_new_static ("not a query", 11);
  g_autoptr(GBytes) reply = NULL;
  const unsigned char *p;
  TS_RESP *response;
  guint status = 0;

  reply = http (portal, "POST", "/pki/tsa", "application/timestamp-query", body, &status);
  g_assert_cmpuint (status, ==, 200);
  p = g_bytes_get_data (reply, NULL);
  response = d2i_TS_RESP (NULL, &p, (long) g_bytes_get_size (reply));
  g_assert_nonnull (response);
  g_assert_cmpint (ASN1_INTEGER_get (TS_STATUS_INFO_get0_status (TS_RESP_get_status_info (response))), ==,
                   TS_STATUS_REJECTION);
  g_assert_null (TS_RESP_get_token (response));
  TS_RESP_free (response);

  /* Another type or a body too large for a query is refused before it is read. */
  g_clear_pointer (&reply, g_bytes_unref);
  reply = http (portal, "POST", "/pki/tsa", "application/json", body, &status);
  g_assert_cmpuint (status, ==, 400);
  {
    g_autoptr(GBytes) big = g_bytes_new_take (g_malloc0 (20 * 1024), 20 * 1024);

    g_clear_pointer (&reply, g_bytes_unref);
    reply = http (portal, "POST", "/pki/ocsp", "application/ocsp-request", big, &status);
    g_assert_cmpuint (status, ==, 413);
    /* The other paths take no body at all. */
    g_clear_pointer (&reply, g_bytes_unref);
    reply = http (portal, "POST", "/pki/ca.crl", "application/octet-stream", body, &status);
    g_assert_cmpuint (status, ==, 413);
  }
  /* A malformed OCSP request gets an OCSP answer that says so. */
  {
    g_autoptr(GBytes) answer = NULL;
    const unsigned char *q;
    OCSP_RESPONSE *ocsp;

    answer = http (portal, "POST", "/pki/ocsp", "application/ocsp-request", body, &status);
    g_assert_cmpuint (status, ==, 200);
    q = g_bytes_get_data (answer, NULL);
    ocsp = d2i_OCSP_RESPONSE (NULL, &q, (long) g_bytes_get_size (answer));
    g_assert_nonnull (ocsp);
    g_assert_cmpint (OCSP_response_status (ocsp), ==, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    OCSP_RESPONSE_free (ocsp);
  }
}

static char *signed_cms_file;

/* `openssl cms -verify -crl_check` with the portal's CRL (fetched with
 * curl): the card's signature verifies now, and not after the revocation
 * (test_lost_card_crl). */
static gboolean
cms_verifies_with_crl (char **err)
{
  g_autofree char *crl = tmp_file ("ca.crl");
  g_autofree char *crl_pem = tmp_file ("ca-crl.pem");
  g_autofree char *trust = tmp_file ("root-and-crl.pem");
  g_autofree char *url = g_strconcat (portal->url, "/pki/ca.crl", NULL);
  g_autofree char *root_text = NULL;
  g_autofree char *crl_text = NULL;
  g_autofree char *both = NULL;
  const char *fetch[] = { "curl", "--silent", "--fail", "--cacert", root_ca, "-o", crl, url, NULL };
  const char *to_pem[] = { "openssl", "crl", "-inform", "DER", "-in", crl, "-out", crl_pem, NULL };
  /* openssl cms has no -CRLfile: the CRL goes into the -CAfile store. */
  const char *verify[] = { "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signed_cms_file,
                           "-CAfile", trust, "-certfile", issuing_ca, "-crl_check",
                           "-purpose", "any", "-out", "/dev/null", NULL };

  g_assert_cmpint (run (NULL, NULL, fetch), ==, 0);
  g_assert_cmpint (run (NULL, NULL, to_pem), ==, 0);
  g_assert_true (g_file_get_contents (root_ca, &root_text, NULL, NULL));
  g_assert_true (g_file_get_contents (crl_pem, &crl_text, NULL, NULL));
  both = g_strconcat (root_text, crl_text, NULL);
  g_assert_true (g_file_set_contents (trust, both, -1, NULL));
  return run (NULL, err, verify) == 0;
}

static void
test_crl_check (void)
{
  g_autoptr(Login) login = login_new (portal);
  g_autoptr(GBytes) text = login_text (login);
  g_autoptr(GBytes) cms = sign_bes (text);
  g_autofree char *err = NULL;

  signed_cms_file = tmp_file ("signed.p7s");
  g_assert_true (g_file_set_contents (signed_cms_file, g_bytes_get_data (cms, NULL), g_bytes_get_size (cms), NULL));
  g_assert_true (cms_verifies_with_crl (&err));
}

/* A request at level T names the TSA; BES is refused, a time-stamp over
 * something else is refused, a right one is accepted. */
static void
test_level_t (void)
{
  Portal *saved = portal;
  /* Per purpose: logins at T, everything else at the default BES. */
  Portal *t_portal = portal_start_full ("BES", "--signature-level-for", "login=T");
  g_autoptr(Login) bes = NULL;
  g_autoptr(Login) wrong = NULL;
  g_autoptr(Login) good = NULL;
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) stamped = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autofree char *tsa_url = NULL;
  guint status = 0;

  portal = t_portal;
  tsa_url = g_strconcat (portal->url, "/pki/tsa", NULL);

  bes = login_new (portal);
  g_assert_cmpstr (json_object_get_string_member (bes->request, "signature_level"), ==, "T");
  g_assert_cmpstr (json_object_get_string_member (bes->request, "tsa_url"), ==, tsa_url);
  text = login_text (bes);
  cms = sign_bes (text);
  answer = login_submit (portal, bes, cms, &status);
  g_assert_cmpuint (status, ==, 422);
  g_assert_cmpstr (error_code (answer), ==, "signature-level");
  g_assert_nonnull (strstr (error_message (answer), "zaman damgası bulunmuyor"));
  g_clear_pointer (&answer, json_object_unref);

  wrong = login_new (portal);
  g_clear_pointer (&text, g_bytes_unref);
  g_clear_pointer (&cms, g_bytes_unref);
  text = login_text (wrong);
  cms = sign_bes (text);
  stamped = extend (cms, EXTEND_T_WRONG_IMPRINT);
  answer = login_submit (portal, wrong, stamped, &status);
  g_assert_cmpuint (status, ==, 422);
  g_assert_cmpstr (error_code (answer), ==, "signature-level");
  g_clear_pointer (&answer, json_object_unref);
  g_clear_pointer (&stamped, g_bytes_unref);

  good = login_new (portal);
  g_clear_pointer (&text, g_bytes_unref);
  g_clear_pointer (&cms, g_bytes_unref);
  text = login_text (good);
  cms = sign_bes (text);
  stamped = extend (cms, EXTEND_T);
  answer = login_submit (portal, good, stamped, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (answer, "status"), ==, "accepted");

  portal = saved;
  portal_stop (t_portal);
}

/* Level XL: T alone, X-L without revocation values, or values without
 * the CAdES-C references is refused; X-L as İmzala makes it (the issuing
 * CA's certificate and the portal's OCSP response, referenced and
 * included) is accepted. */
static void
test_level_xl (void)
{
  Portal *saved = portal;
  Portal *xl_portal = portal_start ("XL");
  Extension ways[] = { EXTEND_T, EXTEND_XL_NO_REVOCATION_VALUES, EXTEND_VALUES_WITHOUT_REFERENCES,
                       EXTEND_XL };

  portal = xl_portal;
  for (guint i = 0; i < G_N_ELEMENTS (ways); i++)
    {
      g_autoptr(Login) login = login_new (portal);
      g_autoptr(GBytes) text = login_text (login);
      g_autoptr(GBytes) cms = sign_bes (text);
      g_autoptr(GBytes) extended = extend (cms, ways[i]);
      g_autoptr(JsonObject) answer = NULL;
      guint status = 0;

      g_assert_cmpstr (json_object_get_string_member (login->request, "signature_level"), ==, "XL");
      answer = login_submit (portal, login, extended, &status);
      if (ways[i] == EXTEND_XL)
        g_assert_cmpuint (status, ==, 200);
      else
        {
          g_assert_cmpuint (status, ==, 422);
          g_assert_cmpstr (error_code (answer), ==, "signature-level");
        }
    }
  portal = saved;
  portal_stop (xl_portal);
}

/* A BES request still says nothing of levels: 1.0 clients see 1.0. */
static void
test_bes_answer_unchanged (void)
{
  g_autoptr(Login) login = login_new (portal);

  g_assert_false (json_object_has_member (login->request, "signature_level"));
  g_assert_false (json_object_has_member (login->request, "tsa_url"));
}

/* A login at the main portal (level BES) with a signature time-stamped by
 * the portal's TSA before the card is revoked, submitted after
 * (/portal-pki/lost-card/time-stamped-before). */
static Login *stamped_login;
static GBytes *stamped_before_revocation;

static void
stamp_before_revocation (void)
{
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GBytes) cms = NULL;

  stamped_login = login_new (portal);
  text = login_text (stamped_login);
  cms = sign_bes (text);
  stamped_before_revocation = extend (cms, EXTEND_T);
  /* The revocation's time (whole seconds) then lies after the
   * time-stamp's genTime. */
  g_usleep (G_USEC_PER_SEC + G_USEC_PER_SEC / 10);
}

static void
revoke_card (void)
{
  g_autofree char *out = NULL;
  const char *argv[] = { g_getenv ("IMZALA_PORTAL"), "--state", state_dir, "revoke", "--tckn", AYSE_TCKN,
                         "--reason", "keyCompromise", NULL };
  const char *again[] = { g_getenv ("IMZALA_PORTAL"), "--state", state_dir, "revoke", "--tckn", AYSE_TCKN,
                          NULL };
  const char *bad_reason[] = { g_getenv ("IMZALA_PORTAL"), "--state", state_dir, "revoke", "--tckn",
                               AYSE_TCKN, "--reason", "certificateHold", NULL };

  stamp_before_revocation ();
  g_assert_cmpint (run (NULL, NULL, bad_reason), ==, 2);
  g_assert_cmpint (run (&out, NULL, argv), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Revoked certificate "));
  g_assert_nonnull (strstr (out, AYSE_TCKN " (keyCompromise)"));
  /* Nothing left to revoke: an error, not a silent success. */
  g_assert_cmpint (run (NULL, NULL, again), ==, 1);

  /* revoke wrote the new CRL to <state>/pki/ca.crl too, with the serial. */
  {
    g_autofree char *crl_file = g_build_filename (state_dir, "pki", "ca.crl", NULL);
    g_autofree char *serial = g_strndup (out + strlen ("Revoked certificate "),
                                         strcspn (out + strlen ("Revoked certificate "), " "));
    g_autofree char *listed = g_strconcat ("Serial Number: ", serial, NULL);
    g_autofree char *crl_text = NULL;
    const char *show[] = { "openssl", "crl", "-inform", "DER", "-in", crl_file, "-noout", "-text", NULL };

    g_assert_cmpint (run (&crl_text, NULL, show), ==, 0);
    g_assert_nonnull (strstr (crl_text, listed));
    g_assert_nonnull (strstr (crl_text, "Key Compromise"));
  }
}

#define LOST_CARD_SENTENCE "Kartınız iptal edilmiş (kayıp/çalıntı bildirimi)"

/* The lost card (issue 10, "Done when"): after `revoke` the running portal
 * refuses the card's signature with the reason, and the page's status says
 * it too. */
static void
test_lost_card_login (void)
{
  g_autoptr(Login) login = NULL;
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(JsonObject) page = NULL;
  g_autofree char *status_path = NULL;
  guint status = 0;

  revoke_card ();
  login = login_new (portal);
  text = login_text (login);
  cms = sign_bes (text);
  answer = login_submit (portal, login, cms, &status);
  g_assert_cmpuint (status, ==, 403);
  g_assert_cmpstr (error_code (answer), ==, "certificate-revoked");
  g_assert_true (g_str_has_prefix (error_message (answer), LOST_CARD_SENTENCE));

  status_path = g_strconcat ("/api/v1/browser/requests/", login->request_id, "/status", NULL);
  page = http_json (portal, "GET", status_path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  /* Closed at once: trying again cannot help. */
  g_assert_cmpstr (json_object_get_string_member (page, "state"), ==, "failed");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (page, "message"), LOST_CARD_SENTENCE));
}

static void
test_lost_card_ocsp (void)
{
  assert_ocsp_status ("revoked");
}

static void
test_lost_card_crl (void)
{
  g_autofree char *err = NULL;

  g_assert_false (cms_verifies_with_crl (&err));
  g_assert_nonnull (strstr (err, "certificate revoked"));
}

/* `imzala-cli portal` with the demo card (LANGUAGE=tr, PIN on fd 3);
 * returns the exit status, stdout and stderr. */
static int
run_cli_portal (Login *login, char **out, char **err)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  int fds[2];

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_cmpint (write (fds[1], DEMO_PIN "\n", strlen (DEMO_PIN) + 1), ==, (gssize) strlen (DEMO_PIN) + 1);
  close (fds[1]);
  g_subprocess_launcher_take_fd (launcher, fds[0], 3);
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", "tr", TRUE);
  g_subprocess_launcher_setenv (launcher, "SOFTHSM2_CONF", card_conf, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("IMZALA_CLI"), "portal",
                                         "--portal", portal->url, "--portal-ca", root_ca,
                                         "--code", login->display, "--pin-fd", "3",
                                         "--no-registered", "--module", "/usr/lib/softhsm/libsofthsm2.so",
                                         NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out, err, &error);
  g_assert_no_error (error);
  g_test_message ("imzala-cli: %s\n%s", *out, *err);
  return g_subprocess_get_exit_status (process);
}

/* Status before signing against the portal's own https OCSP: `--portal-ca`
 * also vouches for the responder (TLS verified), so a good card signs with
 * no "could not be checked" notice. */
static void
test_status_before_signing_good (void)
{
  g_autoptr(Login) login = login_new (portal);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (run_cli_portal (login, &out, &err), ==, 0);
  g_assert_null (strstr (err, "Bilgi:"));
  g_assert_null (strstr (err, "denetlenemedi"));
}

/* `imzala-cli portal` with the revoked card: the status asked before the
 * PIN from the portal's https OCSP (trusted through --portal-ca) says
 * revoked: exit 4 with the reason, nothing sent, the request still
 * open. (The portal's own refusal is /portal-pki/lost-card/login.) */
static void
test_lost_card_cli (void)
{
  g_autoptr(Login) login = login_new (portal);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *status_path = NULL;
  g_autoptr(JsonObject) page = NULL;
  guint status = 0;

  g_assert_cmpint (run_cli_portal (login, &out, &err), ==, 4);
  /* The CLI's own sentence (its catalogue is not installed here; the
   * window's Turkish one is checked by /gui/flow/lost-card). */
  g_assert_nonnull (strstr (err, "Your certificate has been revoked"));

  status_path = g_strconcat ("/api/v1/browser/requests/", login->request_id, "/status", NULL);
  page = http_json (portal, "GET", status_path, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (page, "state"), ==, "pending");
}

/* A signer from another CA (the test fixture's, trusted with --extra-ca,
 * same T.C. kimlik no): the signature itself is fine, but this portal
 * cannot establish the status of a certificate it did not issue, so it
 * refuses it (fails closed, §8.9). Signed by `imzala-cli sign` on the
 * fixture's SoftHSM store. */
static void
test_status_unknown (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (fixture, "ayse-rsa", "fingerprint");
  g_autofree char *content_file = tmp_file ("foreign.txt");
  g_autofree char *signed_file = tmp_file ("foreign.p7s");
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(Login) login = NULL;
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autofree char *err = NULL;
  g_autofree char *data = NULL;
  Portal *saved = portal;
  Portal *foreign = portal_start_full (NULL, "--extra-ca", fixture->root_ca_file);
  gsize length = 0;
  guint status = 0;
  int fds[2];

  /* The fixture copy set SOFTHSM2_CONF for this process; the demo card's
   * stays in use here (its module is loaded already), the fixture's only
   * for the imzala-cli below. */
  g_setenv ("SOFTHSM2_CONF", card_conf, TRUE);
  portal = foreign;
  login = login_new (portal);
  text = login_text (login);
  g_assert_true (g_file_set_contents (content_file, g_bytes_get_data (text, NULL), g_bytes_get_size (text), NULL));

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_cmpint (write (fds[1], DEMO_PIN "\n", strlen (DEMO_PIN) + 1), ==, (gssize) strlen (DEMO_PIN) + 1);
  close (fds[1]);
  g_subprocess_launcher_take_fd (launcher, fds[0], 3);
  g_subprocess_launcher_setenv (launcher, "SOFTHSM2_CONF", fixture->softhsm_conf, TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("IMZALA_CLI"), "sign",
                                         "--no-registered", "--module", fixture->module_path,
                                         "--cert", fingerprint, "--pin-fd", "3",
                                         "--out", signed_file, content_file, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    g_error ("imzala-cli sign failed: %s", err);
  g_assert_true (g_file_get_contents (signed_file, &data, &length, NULL));
  cms = g_bytes_new (data, length);

  answer = login_submit (portal, login, cms, &status);
  g_assert_cmpuint (status, ==, 422);
  g_assert_cmpstr (error_code (answer), ==, "certificate-status-unknown");
  g_assert_nonnull (strstr (error_message (answer), "iptal durumu doğrulanamadığı"));

  portal = saved;
  portal_stop (foreign);
}

/* ---- Setup ---- */

static void
enrol (void)
{
  g_autofree char *err = NULL;
  const char *argv[] = { g_getenv ("IMZALA_PORTAL"), "--state", state_dir, "enrol",
                         "--tckn", AYSE_TCKN, "--name", "AYŞE YILMAZ", "--security-word", "kelebek",
                         "--institution", "MEB", "--sicil-no", "482913", "--card-dir", card_dir, NULL };

  if (run (NULL, &err, argv) != 0)
    g_error ("enrol failed: %s", err);
}

static void
setup (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *ca_der = NULL;
  g_autoptr(GBytes) answer = NULL;
  const unsigned char *p;
  X509 *ca;
  FILE *file;
  guint status = 0;

  tmp_dir = g_dir_make_tmp ("imzala-test-portal-pki-XXXXXX", &error);
  g_assert_no_error (error);
  state_dir = g_build_filename (tmp_dir, "state", NULL);
  card_dir = g_build_filename (tmp_dir, "card", NULL);
  root_ca = g_build_filename (state_dir, "ca", "root-ca.pem", NULL);
  issuing_ca = tmp_file ("issuing-ca.pem");
  person_pem = tmp_file ("ayse.pem");

  /* The portal first, so that the card's certificate names its URL. */
  portal = portal_start (NULL);
  enrol ();

  /* The issuing CA as a relying party gets it: from /pki/ca.crt (DER). */
  answer = http (portal, "GET", "/pki/ca.crt", NULL, NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  p = g_bytes_get_data (answer, NULL);
  ca = d2i_X509 (NULL, &p, (long) g_bytes_get_size (answer));
  g_assert_nonnull (ca);
  file = fopen (issuing_ca, "w");
  PEM_write_X509 (file, ca);
  fclose (file);
  X509_free (ca);

  conf = g_build_filename (card_dir, "softhsm2.conf", NULL);
  card_conf = g_strdup (conf);
  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  modules = imzala_module_set_new ();
  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, "/usr/lib/softhsm/libsofthsm2.so");
  g_assert_true (imzala_module_set_load (modules, NULL, &error));
  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  ayse_cert = imzala_module_set_find_certificate (tokens,
    "pkcs11:token=IMZALA%20DEMO%20" AYSE_TCKN ";object=AYSE%20YILMAZ%20SIGN0", NULL, &error);
  g_assert_no_error (error);
  file = fopen (person_pem, "w");
  PEM_write_X509 (file, imzala_certificate_get_x509 (ayse_cert));
  fclose (file);
}

/* /pki/ocsp and /pki/tsa cost the portal a signature: one address gets
 * IMZALA_PORTAL_PKI_WORK of them per window, then 429 (malformed requests
 * count too); the CA certificate and the CRL are still served. Last, as it
 * spends the test address's budget. */
static void
test_pki_rate_limit (void)
{
  g_autoptr(GBytes) body = g_bytes_new_static ("not a query", 11);
  guint status = 0;
  guint limited_after = 0;

  for (guint i = 0; i <= IMZALA_PORTAL_PKI_WORK; i++)
    {
      g_autoptr(GBytes) reply = http (portal, "POST", i % 2 == 0 ? "/pki/tsa" : "/pki/ocsp",
                                      i % 2 == 0 ? "application/timestamp-query"
                                                 : "application/ocsp-request",
                                      body, &status);

      if (status == 429)
        {
          limited_after = i;
          break;
        }
      g_assert_cmpuint (status, ==, 200);
    }
  /* The earlier tests spent some of the budget, never all of it. */
  g_assert_cmpuint (limited_after, >, 0);
  g_assert_cmpuint (status, ==, 429);
  {
    g_autoptr(GBytes) reply = http (portal, "GET", "/pki/ocsp/MAA=", NULL, NULL, &status);

    g_assert_cmpuint (status, ==, 429);
  }
  {
    g_autoptr(GBytes) reply = http (portal, "GET", "/pki/ca.crt", NULL, NULL, &status);

    g_assert_cmpuint (status, ==, 200);
  }
  {
    g_autoptr(GBytes) reply = http (portal, "GET", "/pki/ca.crl", NULL, NULL, &status);

    g_assert_cmpuint (status, ==, 200);
  }
}

/* §8.9 is about the card now: a signature time-stamped before the card was
 * revoked is valid for a verifier at the time-stamp's time (the verifier
 * reports the later revocation), but the portal refuses it like any other
 * signature of the revoked card, and closes the request. */
static void
test_lost_card_time_stamped_before (void)
{
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(JsonObject) page = NULL;
  g_autofree char *status_path = NULL;
  guint status = 0;

  if (stamped_before_revocation == NULL)
    {
      g_test_skip ("Runs after /portal-pki/lost-card/login");
      return;
    }
  answer = login_submit (portal, stamped_login, stamped_before_revocation, &status);
  g_assert_cmpuint (status, ==, 403);
  g_assert_cmpstr (error_code (answer), ==, "certificate-revoked");
  g_assert_true (g_str_has_prefix (error_message (answer), LOST_CARD_SENTENCE));
  status_path = g_strconcat ("/api/v1/browser/requests/", stamped_login->request_id, "/status", NULL);
  page = http_json (portal, "GET", status_path, NULL, &status);
  g_assert_cmpstr (json_object_get_string_member (page, "state"), ==, "failed");
}

/* The portal's delegated OCSP signer (issued by the portal's CA): a second
 * party that can sign, with a certificate and key the portal made. */
static void
read_ocsp_signer (X509 **cert, EVP_PKEY **key)
{
  g_autofree char *cert_file = g_build_filename (state_dir, "pki", "ocsp.pem", NULL);
  g_autofree char *key_file = g_build_filename (state_dir, "pki", "ocsp.key", NULL);
  FILE *file = fopen (key_file, "r");

  *cert = read_pem_cert (cert_file);
  g_assert_nonnull (file);
  *key = PEM_read_PrivateKey (file, NULL, NULL, NULL);
  fclose (file);
  g_assert_nonnull (*key);
}

/* Exactly one SignerInfo (§4.2): a second signer beside the requester
 * (OpenSSL adds it over the same content) is refused, so no other party's
 * signature rides along into the stored evidence. */
static void
test_two_signers (void)
{
  g_autoptr(Login) login = login_new (portal);
  g_autoptr(GBytes) text = login_text (login);
  g_autoptr(GBytes) cms = sign_bes (text);
  g_autoptr(GBytes) both = NULL;
  g_autoptr(JsonObject) answer = NULL;
  const unsigned char *p = g_bytes_get_data (cms, NULL);
  CMS_ContentInfo *parsed = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (cms));
  unsigned char *der = NULL;
  X509 *cert;
  EVP_PKEY *key;
  guint status = 0;

  read_ocsp_signer (&cert, &key);
  g_assert_nonnull (parsed);
  g_assert_nonnull (CMS_add1_signer (parsed, cert, key, EVP_sha256 (), CMS_REUSE_DIGEST | CMS_BINARY));
  both = bytes_from_openssl (der, i2d_CMS_ContentInfo (parsed, &der));
  CMS_ContentInfo_free (parsed);
  X509_free (cert);
  EVP_PKEY_free (key);

  answer = login_submit (portal, login, both, &status);
  g_assert_cmpuint (status, ==, 422);
  g_assert_cmpstr (error_code (answer), ==, "signature-invalid");

  /* The requester's own signature alone still goes through. */
  g_clear_pointer (&answer, json_object_unref);
  answer = login_submit (portal, login, cms, &status);
  g_assert_cmpuint (status, ==, 200);
}

/* ImzalaCmsSignFunc: Ayşe's card signs, whatever certificate the CMS
 * names (the certificates below carry her key). */
static GBytes *
card_sign_cb (GBytes       *to_be_signed,
              ImzalaDigest  digest,
              gpointer      user_data,
              GCancellable *cancellable,
              GError      **error)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (DEMO_PIN);

  return imzala_token_sign (imzala_module_set_find_token (tokens, ayse_cert), ayse_cert, pin, digest,
                            to_be_signed, cancellable, error);
}

/* Issue 12: the portal does not verify its issuing CA's signature on a
 * certificate that is byte for byte one it issued. A certificate with
 * her serial number, her name and her key, and a signature the CA never
 * made (the last byte changed) is not that: her card's signature under it
 * is refused, as before, and her real certificate's goes through. */
static void
test_issued_serial_other_bytes (void)
{
  /* A portal of its own on the same state, so that its login does not
   * spend the shared portal's budget of requests for this address. */
  Portal *own = portal_start (NULL);
  g_autoptr(Login) login = login_new (own);
  g_autoptr(GBytes) text = login_text (login);
  GBytes *real_der = imzala_certificate_get_der (ayse_cert);
  g_autoptr(GByteArray) changed = g_byte_array_new ();
  g_autoptr(GBytes) changed_der = NULL;
  g_autoptr(ImzalaCertificate) forged = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) real = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(GError) error = NULL;
  guint status = 0;

  g_byte_array_append (changed, g_bytes_get_data (real_der, NULL), (guint) g_bytes_get_size (real_der));
  changed->data[changed->len - 1] ^= 0x01;
  changed_der = g_byte_array_free_to_bytes (g_steal_pointer (&changed));
  forged = imzala_certificate_new_from_der (changed_der, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (imzala_certificate_get_serial (forged), ==, imzala_certificate_get_serial (ayse_cert));
  g_assert_false (g_bytes_equal (changed_der, real_der));

  cms = imzala_cms_sign_full (forged, NULL, text, NULL, IMZALA_CMS_NONE, NULL, card_sign_cb, NULL, NULL,
                              &error);
  g_assert_no_error (error);
  answer = login_submit (own, login, cms, &status);
  g_assert_cmpuint (status, ==, 422);
  g_assert_cmpstr (error_code (answer), ==, "signature-invalid");

  g_clear_pointer (&answer, json_object_unref);
  real = sign_bes (text);
  answer = login_submit (own, login, real, &status);
  g_assert_cmpuint (status, ==, 200);
  portal_stop (own);
}

static GBytes *
der_of (guint8 tag, GBytes *inner)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  der_wrap (out, tag, g_bytes_get_data (inner, NULL), g_bytes_get_size (inner));
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* A pkcs9 countersignature by @cert/@key (EC, SHA-256) over @bes's
 * signature value: a SignerInfo with messageDigest as its one signed
 * attribute, and the counter-signer's certificate in the SignedData. */
static GBytes *
counter_sign (GBytes *bes, X509 *cert, EVP_PKEY *key)
{
  static const guint8 version[] = { 0x02, 0x01, 0x01 };
  static const guint8 message_digest_oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                                               0x09, 0x04 };
  static const guint8 sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
                                   0x02, 0x01, 0x05, 0x00 };
  static const guint8 ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
                                         0x03, 0x02 };
  const unsigned char *p = g_bytes_get_data (bes, NULL);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (bes));
  CMS_SignerInfo *signer_info = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);
  ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature (signer_info);
  guint8 digest[32];
  gsize digest_length = sizeof digest;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GByteArray) attribute = g_byte_array_new ();
  g_autoptr(GByteArray) body = g_byte_array_new ();
  g_autoptr(GBytes) octets = NULL, set = NULL, attribute_der = NULL, attributes = NULL, sid = NULL;
  g_autoptr(GBytes) signature = NULL, info = NULL;
  g_autoptr(GByteArray) sid_body = g_byte_array_new ();
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  unsigned char *der = NULL;
  guint8 *signed_value;
  size_t length = 0;
  int der_length;

  g_assert_nonnull (cms);
  g_checksum_update (checksum, ASN1_STRING_get0_data (value), ASN1_STRING_length (value));
  g_checksum_get_digest (checksum, digest, &digest_length);
  {
    g_autoptr(GBytes) digest_bytes = g_bytes_new (digest, digest_length);

    octets = der_of (0x04, digest_bytes);
  }
  set = der_of (0x31, octets);
  g_byte_array_append (attribute, message_digest_oid, sizeof message_digest_oid);
  g_byte_array_append (attribute, g_bytes_get_data (set, NULL), g_bytes_get_size (set));
  {
    g_autoptr(GBytes) inner = g_bytes_new (attribute->data, attribute->len);

    attribute_der = der_of (0x30, inner);
  }
  attributes = der_of (0x31, attribute_der);

  /* The signature is over the SET OF; the SignerInfo carries it as
   * [0] IMPLICIT (short lengths: a two-byte header). */
  g_assert_true (EVP_DigestSignInit (ctx, NULL, EVP_sha256 (), NULL, key));
  g_assert_true (EVP_DigestSign (ctx, NULL, &length, g_bytes_get_data (attributes, NULL),
                                 g_bytes_get_size (attributes)));
  signed_value = g_malloc (length);
  g_assert_true (EVP_DigestSign (ctx, signed_value, &length, g_bytes_get_data (attributes, NULL),
                                 g_bytes_get_size (attributes)));
  EVP_MD_CTX_free (ctx);
  {
    g_autoptr(GBytes) raw = g_bytes_new_take (signed_value, length);

    signature = der_of (0x04, raw);
  }

  der_length = i2d_X509_NAME (X509_get_issuer_name (cert), &der);
  g_byte_array_append (sid_body, der, der_length);
  OPENSSL_free (der);
  der = NULL;
  der_length = i2d_ASN1_INTEGER (X509_get0_serialNumber (cert), &der);
  g_byte_array_append (sid_body, der, der_length);
  OPENSSL_free (der);
  der = NULL;
  {
    g_autoptr(GBytes) inner = g_bytes_new (sid_body->data, sid_body->len);

    sid = der_of (0x30, inner);
  }

  g_byte_array_append (body, version, sizeof version);
  g_byte_array_append (body, g_bytes_get_data (sid, NULL), g_bytes_get_size (sid));
  g_byte_array_append (body, sha256, sizeof sha256);
  g_byte_array_append (body, (const guint8 *) "\xa0", 1);
  g_byte_array_append (body, (const guint8 *) g_bytes_get_data (attributes, NULL) + 1,
                       g_bytes_get_size (attributes) - 1);
  g_byte_array_append (body, ecdsa_sha256, sizeof ecdsa_sha256);
  g_byte_array_append (body, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  {
    g_autoptr(GBytes) inner = g_bytes_new (body->data, body->len);

    info = der_of (0x30, inner);
  }
  add_unsigned (signer_info, "1.2.840.113549.1.9.6", g_bytes_get_data (info, NULL), g_bytes_get_size (info));
  g_assert_true (CMS_add1_cert (cms, cert));
  der_length = i2d_CMS_ContentInfo (cms, &der);
  CMS_ContentInfo_free (cms);
  return bytes_from_openssl (der, der_length);
}

/* A counter-signature is unsigned: anyone may add one, so it neither makes
 * nor breaks the requester's signature. The portal judges the signer,
 * who must be the requester; countersigned by the portal's OCSP signer
 * (whose certificate is not for signatures: the verifier marks the
 * counter-signature failed) it is accepted. */
static void
test_counter_signed (void)
{
  g_autoptr(Login) login = login_new (portal);
  g_autoptr(GBytes) text = login_text (login);
  g_autoptr(GBytes) cms = sign_bes (text);
  g_autoptr(GBytes) countersigned = NULL;
  g_autoptr(JsonObject) answer = NULL;
  X509 *cert;
  EVP_PKEY *key;
  guint status = 0;

  read_ocsp_signer (&cert, &key);
  countersigned = counter_sign (cms, cert, key);
  X509_free (cert);
  EVP_PKEY_free (key);
  /* The core verifier reads it as a counter-signature (and fails it). */
  {
    g_autoptr(ImzalaTrust) trust = imzala_trust_new ();
    g_autoptr(ImzalaVerification) verification = NULL;
    g_autoptr(GError) error = NULL;
    ImzalaSignerReport *report;
    ImzalaSignerReport *counter;

    g_assert_true (imzala_trust_add_path (trust, issuing_ca, &error));
    imzala_trust_set_offline (trust, TRUE);
    verification = imzala_verifier_verify (countersigned, NULL, trust, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (verification->signers->len, ==, 1);
    report = g_ptr_array_index (verification->signers, 0);
    g_assert_nonnull (report->counter_signers);
    g_assert_cmpuint (report->counter_signers->len, ==, 1);
    counter = g_ptr_array_index (report->counter_signers, 0);
    g_assert_cmpint (counter->status, ==, IMZALA_VALIDATION_INVALID);
  }

  answer = login_submit (portal, login, countersigned, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (answer, "status"), ==, "accepted");
}

/* A request at BES with a signature that carries broken long-term values
 * (a reference without its value): unsigned extras must not be broken,
 * whatever the level asked for (§8). */
static void
test_broken_references (void)
{
  g_autoptr(Login) login = login_new (portal);
  g_autoptr(GBytes) text = login_text (login);
  g_autoptr(GBytes) cms = sign_bes (text);
  g_autoptr(GBytes) broken = xl_reference_without_value (cms);
  g_autoptr(JsonObject) answer = NULL;
  guint status = 0;

  g_assert_false (json_object_has_member (login->request, "signature_level"));
  answer = login_submit (portal, login, broken, &status);
  g_assert_cmpuint (status, ==, 422);
  g_assert_cmpstr (error_code (answer), ==, "signature-level");
  g_assert_nonnull (strstr (error_message (answer), "uyuşmuyor"));

  /* The intact X-L is above BES: accepted. */
  g_clear_pointer (&answer, json_object_unref);
  g_clear_pointer (&broken, g_bytes_unref);
  broken = extend (cms, EXTEND_XL);
  answer = login_submit (portal, login, broken, &status);
  g_assert_cmpuint (status, ==, 200);
}

/* ---- One connection for `imzala-cli portal` (issue 12) ---- */

/* `imzala-cli portal` against a portal of its own that logs each TLS
 * handshake (G_MESSAGES_DEBUG, on its stdout): the fetch (GET) and the
 * submission (POST) share one connection, so one handshake, now that the
 * portal keeps a connection for its next request. (The status check asks
 * the OCSP URL in the card's certificate, the main portal's.) */
static void
test_cli_one_connection (void)
{
  g_autoptr(GSubprocessLauncher) portal_launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) own = NULL;
  g_autoptr(GDataInputStream) own_output = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(Login) login = NULL;
  g_autofree char *url = NULL;
  Portal *saved = portal;
  Portal own_portal = { 0 };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  guint handshakes = 0;
  char *line;
  int fds[2];

  g_subprocess_launcher_set_child_setup (portal_launcher, die_with_parent, NULL, NULL);
  g_subprocess_launcher_setenv (portal_launcher, "G_MESSAGES_DEBUG", "imzala-portal", TRUE);
  own = g_subprocess_launcher_spawn (portal_launcher, &error, g_getenv ("IMZALA_PORTAL"),
                                     "--state", state_dir, "--listen", "127.0.0.1:0", NULL);
  g_assert_no_error (error);
  own_output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (own));
  url = read_line_after (own_output, "listening on ");
  g_free (read_line_after (own_output, "--portal-ca): "));

  /* The request is made on this portal (through the main portal's
   * browser session, which only needs the URL swapped). */
  own_portal = *portal;
  own_portal.url = url;
  portal = &own_portal;
  login = login_new (portal);
  portal = saved;

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_cmpint (write (fds[1], DEMO_PIN "\n", strlen (DEMO_PIN) + 1), ==, (gssize) strlen (DEMO_PIN) + 1);
  close (fds[1]);
  g_subprocess_launcher_take_fd (launcher, fds[0], 3);
  g_subprocess_launcher_setenv (launcher, "SOFTHSM2_CONF", card_conf, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("IMZALA_CLI"), "portal",
                                         "--portal", url, "--portal-ca", root_ca,
                                         "--code", login->display, "--pin-fd", "3",
                                         "--no-registered", "--module", "/usr/lib/softhsm/libsofthsm2.so",
                                         NULL);
  g_assert_no_error (error);
  imzala_test_communicate_serving (process, &out, &err);
  g_test_message ("imzala-cli: %s\n%s", out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

  /* What the portal logged up to its end. */
  g_subprocess_send_signal (own, SIGTERM);
  while ((line = g_data_input_stream_read_line_utf8 (own_output, NULL, NULL, NULL)) != NULL)
    {
      if (strstr (line, "TLS handshake") != NULL && strstr (line, " done") != NULL)
        {
          g_test_message ("%s", line);
          handshakes++;
        }
      g_free (line);
    }
  g_subprocess_wait (own, NULL, NULL);
  /* The browser's request and the CLI's fetch and submission. */
  g_test_message ("TLS handshakes: %u", handshakes);
  g_assert_cmpuint (handshakes, ==, 2);

}

int
main (int argc, char *argv[])
{
  int result;

  g_test_init (&argc, &argv, NULL);
  setup ();

  /* In this order: the lost-card tests revoke the card. */
  g_test_add_func ("/portal-pki/certificate-urls", test_certificate_urls);
  g_test_add_func ("/portal-pki/ocsp-good", test_ocsp_good);
  g_test_add_func ("/portal-pki/ocsp-get-and-unknown", test_ocsp_get_and_unknown);
  g_test_add_func ("/portal-pki/tsa", test_tsa);
  g_test_add_func ("/portal-pki/tsa-garbage", test_tsa_garbage);
  g_test_add_func ("/portal-pki/level-options", test_level_options);
  g_test_add_func ("/portal-pki/crl-check", test_crl_check);
  g_test_add_func ("/portal-pki/bes-answer-unchanged", test_bes_answer_unchanged);
  g_test_add_func ("/portal-pki/level-t", test_level_t);
  g_test_add_func ("/portal-pki/level-xl", test_level_xl);
  g_test_add_func ("/portal-pki/status-unknown", test_status_unknown);
  g_test_add_func ("/portal-pki/status-before-signing-good", test_status_before_signing_good);
  /* Before the lost-card tests, with the card still good. */
  g_test_add_func ("/portal-pki/cli-one-connection", test_cli_one_connection);
  g_test_add_func ("/portal-pki/lost-card/login", test_lost_card_login);
  g_test_add_func ("/portal-pki/lost-card/ocsp", test_lost_card_ocsp);
  g_test_add_func ("/portal-pki/lost-card/crl", test_lost_card_crl);
  g_test_add_func ("/portal-pki/lost-card/cli", test_lost_card_cli);
  g_test_add_func ("/portal-pki/limits/rate-limit", test_pki_rate_limit);
  g_test_add_func ("/portal-pki/two-signers", test_two_signers);
  g_test_add_func ("/portal-pki/issued-serial-other-bytes", test_issued_serial_other_bytes);
  g_test_add_func ("/portal-pki/counter-signed", test_counter_signed);
  g_test_add_func ("/portal-pki/broken-references", test_broken_references);
  g_test_add_func ("/portal-pki/lost-card/time-stamped-before", test_lost_card_time_stamped_before);
  result = g_test_run ();

  portal_stop (portal);
  g_clear_object (&ayse_cert);
  g_clear_pointer (&tokens, g_ptr_array_unref);
  g_clear_object (&modules);
  imzala_module_close_all ();
  if (g_getenv ("IMZALA_TEST_KEEP") == NULL)
    {
      g_autofree char *quoted = g_shell_quote (tmp_dir);
      g_autofree char *command = g_strdup_printf ("rm -rf %s", quoted);

      if (system (command) != 0)
        g_warning ("Could not remove %s", tmp_dir);
    }
  g_free (signed_cms_file);
  g_free (card_conf);
  g_clear_pointer (&stamped_login, login_free);
  g_clear_pointer (&stamped_before_revocation, g_bytes_unref);
  return result;
}
