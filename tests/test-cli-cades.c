/* test-cli-cades.c: `imzala-cli sign --level T|XL --tsa URL` against the
 * SoftHSM fixture and a real TSA (`openssl ts -reply` behind HTTPS,
 * tests/imzala-test-tsa.c). What the command writes is checked by OpenSSL:
 * `openssl ts -verify` accepts the embedded token and `openssl cms
 * -verify` the signature, and `imzala-cli verify --offline` the X-L file;
 * when the TSA or the status fails, nothing is written and the exit status
 * says why.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <openssl/cms.h>
#include <openssl/ocsp.h>
#include <json-glib/json-glib.h>

#include "imzala-cades-asn1.h"

#include "imzala-test.h"
#include "imzala-test-pki.h"
#include "imzala-test-tsa.h"

#define CONTENT "İmzala test content: e-onay 2026/0010\n"

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaTestTsa     *tsa;
  char              *content_path;
  char              *out_path;
  char              *fingerprint;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->fixture = imzala_test_fixture_new ();
  f->tsa = imzala_test_tsa_new ();
  f->content_path = g_build_filename (f->fixture->dir, "content.txt", NULL);
  f->out_path = g_build_filename (f->fixture->dir, "signature.p7s", NULL);
  f->fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-rsa", "fingerprint");
  g_assert_true (g_file_set_contents (f->content_path, CONTENT, -1, NULL));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  imzala_test_tsa_free (f->tsa);
  imzala_test_fixture_free (f->fixture);
  g_free (f->content_path);
  g_free (f->out_path);
  g_free (f->fingerprint);
}

static void
new_session (gpointer user_data)
{
  setsid ();
}

/* imzala-cli with SoftHSM only, the PIN on fd 3; returns the exit status
 * and stderr. */
static int
run_cli (Fixture *f, char **err_out, const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  char *err = NULL;
  int fds[2];

  g_ptr_array_add (argv, (char *) g_getenv ("IMZALA_CLI"));
  g_ptr_array_add (argv, (char *) args[0]);
  g_ptr_array_add (argv, (char *) "--no-registered");
  g_ptr_array_add (argv, (char *) "--module");
  g_ptr_array_add (argv, f->fixture->module_path);
  for (guint i = 1; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, new_session, NULL, NULL);
  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
  g_assert_cmpint (write (fds[1], "123456\n", 7), ==, 7);
  close (fds[1]);
  g_subprocess_launcher_take_fd (launcher, fds[0], 3);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "", NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("imzala-cli %s: exit %d\nstderr: %s", args[0],
                  g_subprocess_get_exit_status (process), err);
  if (err_out != NULL)
    *err_out = err;
  else
    g_free (err);
  return g_subprocess_get_exit_status (process);
}

#define CLI(f, err, ...) run_cli ((f), (err), (const char *const[]) { __VA_ARGS__, NULL })

/* `imzala-cli verify ARGS`, with no module options (verify reads no card);
 * returns the exit status and the standard output. */
static int
run_verify (char **out_out, const char *const *args)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;

  g_ptr_array_add (argv, (char *) g_getenv ("IMZALA_CLI"));
  g_ptr_array_add (argv, (char *) "verify");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out_out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("imzala-cli verify: exit %d\nstdout: %s\nstderr: %s",
                  g_subprocess_get_exit_status (process), *out_out, err);
  return g_subprocess_get_exit_status (process);
}

#define VERIFY(out, ...) run_verify ((out), (const char *const[]) { __VA_ARGS__, NULL })

static GBytes *
read_out (Fixture *f)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (f->out_path, &contents, &length, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), length);
}

static void
test_sign_t (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  status = CLI (f, &err, "sign", "--cert", f->fingerprint, "--pin-fd", "3",
                "--level", "T", "--tsa", imzala_test_tsa_get_url (f->tsa),
                "--tsa-ca", imzala_test_tsa_get_ca (f->tsa), "--out", f->out_path, f->content_path);
  g_assert_cmpint (status, ==, 0);
  cms = read_out (f);
  token = imzala_test_cms_get_time_stamp_token (cms);
  g_assert_nonnull (token);
  signature = imzala_cades_get_signature_value (cms, &error);
  g_assert_no_error (error);
  g_assert_true (imzala_test_tsa_openssl_verify (f->tsa, token, signature));

  /* OpenSSL still verifies the CMS, against the fixture's root. */
  {
    g_autofree char *verified = g_build_filename (f->fixture->dir, "verified.txt", NULL);
    g_autofree char *text = NULL;
    const char *argv[] = {
      "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f->out_path,
      "-CAfile", f->fixture->root_ca_file, "-purpose", "any", "-out", verified, NULL
    };
    int wait_status = 0;

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                  | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &wait_status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (wait_status, NULL));
    g_assert_true (g_file_get_contents (verified, &text, NULL, NULL));
    g_assert_cmpstr (text, ==, CONTENT);
  }
}

/* The TSA fails after the card signed: exit 5, the reason, no file. */
static void
test_sign_t_tsa_fails (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;
  int status;

  imzala_test_tsa_set_mode (f->tsa, IMZALA_TEST_TSA_HTTP_ERROR);
  status = CLI (f, &err, "sign", "--cert", f->fingerprint, "--pin-fd", "3",
                "--level", "T", "--tsa", imzala_test_tsa_get_url (f->tsa),
                "--tsa-ca", imzala_test_tsa_get_ca (f->tsa), "--out", f->out_path, f->content_path);
  g_assert_cmpint (status, ==, 5);
  g_assert_nonnull (strstr (err, "time-stamp server"));
  g_assert_nonnull (strstr (err, "nothing was sent"));
  g_assert_false (g_file_test (f->out_path, G_FILE_TEST_EXISTS));
}

/* XL for a certificate whose status nobody publishes (the fixture names no
 * responder): refused with the reason, exit 4, no file. */
static void
test_sign_xl_no_status (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;
  int status;

  status = CLI (f, &err, "sign", "--cert", f->fingerprint, "--pin-fd", "3",
                "--level", "XL", "--tsa", imzala_test_tsa_get_url (f->tsa),
                "--tsa-ca", imzala_test_tsa_get_ca (f->tsa), "--out", f->out_path, f->content_path);
  g_assert_cmpint (status, ==, 4);
  g_assert_nonnull (strstr (err, "status"));
  g_assert_false (g_file_test (f->out_path, G_FILE_TEST_EXISTS));
}

/* Usage: the levels T and XL need --tsa; an unknown level; http://. */
static void
test_sign_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *err1 = NULL;
  g_autofree char *err2 = NULL;
  g_autofree char *err3 = NULL;

  g_assert_cmpint (CLI (f, &err1, "sign", "--pin-fd", "3", "--level", "T", "--out", f->out_path,
                        f->content_path), ==, 1);
  g_assert_nonnull (strstr (err1, "--tsa"));
  g_assert_cmpint (CLI (f, &err2, "sign", "--pin-fd", "3", "--level", "LTA", "--out", f->out_path,
                        f->content_path), ==, 1);
  g_assert_nonnull (strstr (err2, "BES, T or XL"));
  g_assert_cmpint (CLI (f, &err3, "sign", "--pin-fd", "3", "--level", "T", "--tsa",
                        "http://127.0.0.1:1/tsa", "--out", f->out_path, f->content_path), ==, 5);
  g_assert_nonnull (strstr (err3, "https://"));
  g_assert_false (g_file_test (f->out_path, G_FILE_TEST_EXISTS));
}

/* ---- XL with a card of a PKI that publishes its status ---- */

#define SERIAL_CLI_GOOD 0x7101
#define SERIAL_CLI_TSA  0x7102

/* The result of the check @name of @signer (a JSON object of verify
 * --json), or NULL when it was not made. */
static const char *
check_result (JsonObject *signer, const char *name)
{
  JsonArray *checks = json_object_get_array_member (signer, "checks");

  for (guint i = 0; i < json_array_get_length (checks); i++)
    {
      JsonObject *check = json_array_get_object_element (checks, i);

      if (g_str_equal (json_object_get_string_member (check, "name"), name))
        return json_object_get_string_member (check, "result");
    }
  return NULL;
}

/* The key and certificate on the empty fixture token (the CA's
 * certificate too, as a card carries it). */
static void
put_on_card (Fixture *f, ImzalaTestIdentity *identity, const char *name, const char *id, gboolean key)
{
  const char *dir = f->fixture->dir;
  g_autofree char *key_path = g_strdup_printf ("%s/%s.key", dir, name);
  g_autofree char *pem = g_strdup_printf ("%s/%s.pem", dir, name);

  imzala_test_identity_write (identity, dir, name);
  imzala_test_fixture_put_on_empty_token (f->fixture, name, id, pem, key ? key_path : NULL);
}

/* `sign --level XL`: the file carries the time-stamp (openssl ts -verify
 * accepts it) and the responder's answer for the card's certificate, and
 * that answer proves the status with the network forbidden
 * (imzala-cert-status, IMZALA_CERT_STATUS_OFFLINE). */
static void
test_sign_xl (Fixture *f, gconstpointer data)
{
  const ImzalaTestPkiEntry entries[] = { { SERIAL_CLI_GOOD, "XL SIGNER", 0, NULL },
                                         { SERIAL_CLI_TSA, "XL TSA", 0, NULL } };
  /* Issue 10: a TSA of the same PKI, whose status its responder publishes,
   * so that X-L has to carry it. */
  const ImzalaTestCertSpec tsa_spec = {
    .common_name = "XL TSA", .key = "p256", .key_usage = "critical,digitalSignature",
    .extended_key_usage = "critical,timeStamping", .serial = SERIAL_CLI_TSA,
  };
  const ImzalaTestCertSpec spec = {
    .common_name = "XL SIGNER", .serial_number = "12345678950", .key = "p256",
    .key_usage = "critical,nonRepudiation", .qc_statements_hex = IMZALA_TEST_QC_COMPLIANCE,
    .serial = SERIAL_CLI_GOOD,
  };
  g_autoptr(ImzalaTestPki) pki = imzala_test_pki_new (entries, G_N_ELEMENTS (entries));
  g_autoptr(ImzalaTestIdentity) signer = imzala_test_pki_issue (pki, &spec);
  g_autoptr(ImzalaTestIdentity) tsa_identity = NULL;
  g_autofree char *err = NULL;
  g_autofree char *fingerprint = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaCertificate) certificate = NULL;
  g_autoptr(GBytes) signer_der = imzala_test_identity_der (signer);
  int status;

  tsa_identity = imzala_test_pki_issue (pki, &tsa_spec);
  imzala_test_identity_write (tsa_identity, pki->dir, "xl-tsa");
  {
    g_autofree char *tsa_pem = g_build_filename (pki->dir, "xl-tsa.pem", NULL);
    g_autofree char *tsa_key = g_build_filename (pki->dir, "xl-tsa.key", NULL);
    g_autofree char *chain = g_build_filename (pki->dir, "chain.pem", NULL);

    imzala_test_tsa_set_signer (f->tsa, tsa_pem, tsa_key, chain);
  }
  put_on_card (f, signer, "xl", "71", TRUE);
  put_on_card (f, pki->ca, "xl-ca", "72", FALSE);
  certificate = imzala_certificate_new_from_der (signer_der, &error);
  g_assert_no_error (error);
  fingerprint = g_strdup (imzala_certificate_get_fingerprint (certificate));

  status = CLI (f, &err, "sign", "--cert", fingerprint, "--pin-fd", "3",
                "--level", "XL", "--tsa", imzala_test_tsa_get_url (f->tsa),
                "--tsa-ca", imzala_test_tsa_get_ca (f->tsa), "--out", f->out_path, f->content_path);
  g_assert_cmpint (status, ==, 0);
  cms = read_out (f);
  token = imzala_test_cms_get_time_stamp_token (cms);
  g_assert_nonnull (token);
  signature = imzala_cades_get_signature_value (cms, &error);
  g_assert_true (imzala_test_tsa_openssl_verify (f->tsa, token, signature));

  /* The revocation-values' OCSP response, re-wrapped as an OCSPResponse,
   * proves "good" offline. */
  {
    const unsigned char *p = g_bytes_get_data (cms, NULL);
    CMS_ContentInfo *parsed = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (cms));
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (parsed), 0);
    ASN1_OBJECT *oid = OBJ_txt2obj (IMZALA_OID_REVOCATION_VALUES, 1);
    int index = CMS_unsigned_get_attr_by_OBJ (si, oid, -1);
    ASN1_TYPE *value;
    const unsigned char *q;
    IMZALA_REVOCATION_VALUES *values;
    OCSP_RESPONSE *response;
    unsigned char *der = NULL;
    int length;
    g_autoptr(GBytes) evidence_bytes = NULL;
    g_autoptr(GPtrArray) evidence = g_ptr_array_new ();
    g_autoptr(ImzalaCertStatus) offline = NULL;

    g_assert_cmpint (index, >=, 0);
    value = X509_ATTRIBUTE_get0_type (CMS_unsigned_get_attr (si, index), 0);
    q = ASN1_STRING_get0_data (value->value.sequence);
    values = d2i_IMZALA_REVOCATION_VALUES (NULL, &q, ASN1_STRING_length (value->value.sequence));
    g_assert_nonnull (values);
    /* The card's certificate's and the TSA's. */
    g_assert_cmpint (sk_OCSP_BASICRESP_num (values->ocsp_values), ==, 2);
    response = OCSP_response_create (OCSP_RESPONSE_STATUS_SUCCESSFUL,
                                     sk_OCSP_BASICRESP_value (values->ocsp_values, 0));
    length = i2d_OCSP_RESPONSE (response, &der);
    evidence_bytes = g_bytes_new (der, length);
    g_ptr_array_add (evidence, evidence_bytes);
    offline = imzala_cert_status_get (signer->x509, pki->ca->x509, NULL, evidence,
                                      IMZALA_CERT_STATUS_OFFLINE, NULL);
    g_assert_cmpint (offline->status, ==, IMZALA_CERT_STATUS_GOOD);
    g_assert_cmpint (offline->source, ==, IMZALA_CERT_STATUS_SOURCE_OCSP);
    OPENSSL_free (der);
    OCSP_RESPONSE_free (response);
    IMZALA_REVOCATION_VALUES_free (values);
    ASN1_OBJECT_free (oid);
    CMS_ContentInfo_free (parsed);
  }

  /* Issue 10, done when: the file verifies with every fetch forbidden,
   * trusting only the card's CA and the TSA's root: valid, level X-L, the
   * status proven by the embedded answer. */
  {
    g_autofree char *ca = g_build_filename (pki->dir, "ca.pem", NULL);
    g_autofree char *out = NULL;
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *root;
    JsonObject *first;

    g_assert_cmpint (VERIFY (&out, "--offline", "--json", "--ca", ca,
                             "--ca", imzala_test_tsa_get_ca (f->tsa), f->out_path), ==, 0);
    g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
    g_assert_no_error (error);
    root = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpstr (json_object_get_string_member (root, "status"), ==, "valid");
    g_assert_cmpstr (json_object_get_string_member (root, "level"), ==, "X-L");
    first = json_array_get_object_element (json_object_get_array_member (root, "signers"), 0);
    g_assert_cmpstr (json_object_get_string_member (first, "status"), ==, "valid");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (first, "certificate_status"),
                                                    "status"), ==, "good");
    g_assert_nonnull (json_object_get_string_member (first, "timestamp_time"));
    /* The TSA's status, proven offline by what the file carries. */
    g_assert_cmpstr (check_result (first, "signature-time-stamp-revocation"), ==, "passed");
    g_assert_cmpstr (check_result (first, "signing-time"), ==, "passed");
    g_assert_cmpstr (check_result (first, "references"), ==, "passed");
  }

  /* Without the CA of the card and of the TSA nothing is proven: not
   * valid. */
  {
    g_autofree char *out = NULL;

    g_assert_cmpint (VERIFY (&out, "--offline", "--json", "--ca", imzala_test_tsa_get_ca (f->tsa),
                             f->out_path), ==, 4);
    g_assert_null (strstr (out, "\"status\" : \"valid\""));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/cli/cades/sign-t", Fixture, NULL, setup, test_sign_t, teardown);
  g_test_add ("/cli/cades/sign-t-tsa-fails", Fixture, NULL, setup, test_sign_t_tsa_fails, teardown);
  g_test_add ("/cli/cades/sign-xl-no-status", Fixture, NULL, setup, test_sign_xl_no_status, teardown);
  g_test_add ("/cli/cades/usage", Fixture, NULL, setup, test_sign_usage, teardown);
  g_test_add ("/cli/cades/sign-xl", Fixture, NULL, setup, test_sign_xl, teardown);
  return g_test_run ();
}
