/* test-cades.c: the RFC 3161 client and CAdES-T / -X-L making, against a
 * real TSA (`openssl ts -reply` behind an HTTPS server, tests/imzala-test-tsa.c)
 * and checked by OpenSSL's own commands: `openssl ts -verify` accepts every
 * token the client embeds, `openssl cms -verify` still accepts the extended
 * signatures. The signer is a throwaway key in the test (no SoftHSM needed).
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include "imzala-cades-asn1.h"
#include "imzala-test.h"
#include "imzala-test-pki.h"
#include "imzala-test-tsa.h"

static const char text[] = "İmzalanacak Metin 1: e-onay, 2026-11-26, doğrulama kodu 4X7K-92QD.";

static ImzalaTestIdentity *pki_root;
static ImzalaTestIdentity *pki_leaf;
static ImzalaTestTsa *tsa;

static GBytes *
text_bytes (void)
{
  return g_bytes_new_static (text, strlen (text));
}

static GBytes *
sign_bes_by (ImzalaTestIdentity *leaf, ImzalaTestIdentity *ca, GDateTime *when)
{
  g_autoptr(ImzalaCertificate) signer = imzala_test_identity_certificate (leaf);
  g_autoptr(ImzalaCertificate) root = imzala_test_identity_certificate (ca);
  g_autoptr(GPtrArray) extra = g_ptr_array_new ();
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GError) error = NULL;
  GBytes *cms;

  g_ptr_array_add (extra, root);
  cms = imzala_cms_sign (signer, extra, content, IMZALA_CMS_NONE, when, imzala_test_identity_sign,
                         leaf, NULL, &error);
  g_assert_no_error (error);
  return cms;
}

static GBytes *
sign_bes_at (GDateTime *when)
{
  return sign_bes_by (pki_leaf, pki_root, when);
}

static GBytes *
sign_bes (void)
{
  return sign_bes_at (NULL);
}

static char *
write_temp (const char *name, GBytes *bytes)
{
  char *path = g_build_filename (imzala_test_tsa_get_dir (tsa), name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  return path;
}

static char *
write_pem (const char *name, X509 *x509)
{
  char *path = g_build_filename (imzala_test_tsa_get_dir (tsa), name, NULL);
  FILE *file = fopen (path, "w");

  g_assert_nonnull (file);
  g_assert_cmpint (PEM_write_X509 (file, x509), ==, 1);
  fclose (file);
  return path;
}

static int
run (const char *const *argv, char **out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (imzala_test_tsa_get_dir (tsa), (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("%s failed: %s", argv[0], err);
      return 1;
    }
  return 0;
}

/* `openssl cms -verify` against the test root: the card's signature (here
 * the test key's) is untouched by what was added after it. */
static void
assert_openssl_cms_verifies (GBytes *cms)
{
  g_autofree char *cms_path = write_temp ("extended.p7s", cms);
  g_autofree char *root_path = write_pem ("root.pem", pki_root->x509);
  g_autofree char *out = NULL;
  const char *const argv[] = {
    "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", cms_path,
    "-CAfile", root_path, "-purpose", "any", "-out", "verified.txt", NULL
  };
  g_autofree char *verified_path = g_build_filename (imzala_test_tsa_get_dir (tsa), "verified.txt", NULL);
  g_autofree char *verified = NULL;

  g_assert_cmpint (run (argv, &out), ==, 0);
  g_assert_true (g_file_get_contents (verified_path, &verified, NULL, NULL));
  g_assert_cmpstr (verified, ==, text);
}

typedef struct
{
  GMainLoop *loop;
  GBytes    *result;
  GError    *error;
} Wait;

static void
stamped_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  wait->result = imzala_cades_time_stamp_finish (result, &wait->error);
  g_main_loop_quit (wait->loop);
}

static GBytes *
time_stamp (GBytes *cms, ImzalaTsaClient *client, GCancellable *cancellable, GError **error)
{
  Wait wait = { g_main_loop_new (NULL, FALSE), NULL, NULL };

  imzala_cades_time_stamp_async (cms, client, cancellable, stamped_cb, &wait);
  g_main_loop_run (wait.loop);
  g_main_loop_unref (wait.loop);
  if (wait.error != NULL)
    g_propagate_error (error, wait.error);
  return wait.result;
}

static ImzalaTsaClient *
new_client (void)
{
  g_autoptr(GError) error = NULL;
  ImzalaTsaClient *client = imzala_tsa_client_new (imzala_test_tsa_get_url (tsa),
                                                   imzala_test_tsa_get_ca (tsa), &error);

  g_assert_no_error (error);
  return client;
}

static void
test_time_stamp (void)
{
  g_autoptr(GBytes) bes = sign_bes ();
  g_autoptr(ImzalaTsaClient) client = new_client ();
  g_autoptr(GBytes) stamped = NULL;
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  guint before = imzala_test_tsa_count (tsa);

  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_OK);
  stamped = time_stamp (bes, client, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (stamped);
  g_assert_cmpuint (imzala_test_tsa_count (tsa), ==, before + 1);

  /* The BES had no time-stamp; the T has exactly the one the TSA made,
   * over the signature value, and OpenSSL's verifier accepts it. */
  g_assert_null (imzala_test_cms_get_time_stamp_token (bes));
  token = imzala_test_cms_get_time_stamp_token (stamped);
  g_assert_nonnull (token);
  signature = imzala_cades_get_signature_value (stamped, &error);
  g_assert_no_error (error);
  g_assert_true (imzala_test_tsa_openssl_verify (tsa, token, signature));
  /* ... and not over anything else: the content is not what was stamped. */
  {
    g_autoptr(GBytes) content = text_bytes ();

    g_assert_false (imzala_test_tsa_openssl_verify (tsa, token, content));
  }
  assert_openssl_cms_verifies (stamped);

  /* The verifier of the project still reads the signature. */
  {
    X509_STORE *store = imzala_test_identity_store (pki_root);
    g_autoptr(ImzalaVerifyResult) result = imzala_cms_verify (stamped, NULL, store,
                                                              IMZALA_VERIFY_NONE, &error);
    X509_STORE_free (store);
    g_assert_no_error (error);
    g_assert_nonnull (result);
  }
}

/* A token for another signature is refused by the CAdES layer itself. */
static void
test_foreign_token (void)
{
  g_autoptr(GDateTime) earlier = g_date_time_new_from_unix_utc (g_get_real_time () / G_USEC_PER_SEC - 3600);
  g_autoptr(GBytes) first = sign_bes ();
  /* An hour apart: RSA PKCS#1 v1.5 is deterministic, so two signatures
   * over the same attributes would be the same signature. */
  g_autoptr(GBytes) second = sign_bes_at (earlier);
  g_autoptr(ImzalaTsaClient) client = new_client ();
  g_autoptr(GBytes) stamped = NULL;
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) wrong = NULL;
  g_autoptr(GError) error = NULL;

  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_OK);
  stamped = time_stamp (first, client, NULL, &error);
  g_assert_no_error (error);
  token = imzala_test_cms_get_time_stamp_token (stamped);
  wrong = imzala_cades_add_signature_time_stamp (second, token, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP);
  g_assert_null (wrong);
}

static void
test_tsa_failures (void)
{
  const struct { ImzalaTestTsaMode mode; const char *name; } cases[] = {
    { IMZALA_TEST_TSA_HTTP_ERROR, "HTTP 500" },
    { IMZALA_TEST_TSA_GARBAGE, "not DER" },
    { IMZALA_TEST_TSA_OTHER_QUERY, "a reply to another query" },
    { IMZALA_TEST_TSA_REJECTION, "status rejection" },
  };
  g_autoptr(GBytes) bes = sign_bes ();
  g_autoptr(ImzalaTsaClient) client = new_client ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) stamped = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("TSA: %s", cases[i].name);
      imzala_test_tsa_set_mode (tsa, cases[i].mode);
      stamped = time_stamp (bes, client, NULL, &error);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP);
      g_assert_null (stamped);
      /* Said in words a person reads, naming that nothing was sent. */
      g_assert_nonnull (strstr (error->message, "nothing was sent"));
    }
  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_OK);
}

/* A TSA that never answers: the total-time limit ends the exchange with
 * its own message (the outcome is asserted, not how long it took). */
static void
test_tsa_silent (void)
{
  g_autoptr(GBytes) bes = sign_bes ();
  g_autoptr(ImzalaTsaClient) client = new_client ();
  g_autoptr(GBytes) stamped = NULL;
  g_autoptr(GError) error = NULL;

  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_SILENT);
  imzala_tsa_client_set_timeout (client, 1);
  stamped = time_stamp (bes, client, NULL, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP);
  g_assert_nonnull (strstr (error->message, "did not answer in time"));
  g_assert_null (stamped);
  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_OK);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_tsa_cancel (void)
{
  g_autoptr(GBytes) bes = sign_bes ();
  g_autoptr(ImzalaTsaClient) client = new_client ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GBytes) stamped = NULL;
  g_autoptr(GError) error = NULL;

  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_SILENT);
  g_idle_add (cancel_cb, cancellable);
  stamped = time_stamp (bes, client, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (stamped);
  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_OK);
}

/* TLS is verified: without the TSA's CA the system store does not know
 * it, and plain http:// is refused before any connection. */
static void
test_tsa_tls (void)
{
  g_autoptr(GBytes) bes = sign_bes ();
  g_autoptr(ImzalaTsaClient) client = NULL;
  g_autoptr(ImzalaTsaClient) plain = NULL;
  g_autoptr(GBytes) stamped = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *http = NULL;
  guint before = imzala_test_tsa_count (tsa);

  client = imzala_tsa_client_new (imzala_test_tsa_get_url (tsa), NULL, &error);
  g_assert_no_error (error);
  stamped = time_stamp (bes, client, NULL, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS);
  g_assert_null (stamped);
  g_assert_cmpuint (imzala_test_tsa_count (tsa), ==, before);
  g_clear_error (&error);

  http = g_strdup_printf ("http://%s", imzala_test_tsa_get_url (tsa) + strlen ("https://"));
  plain = imzala_tsa_client_new (http, NULL, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_INSECURE_URL);
  g_assert_null (plain);
}

/* The pure halves: a reply checked against its own query passes; a
 * truncated one, or one for another query, does not. */
static void
test_check_reply (void)
{
  g_autoptr(GBytes) data = text_bytes ();
  g_autoptr(GBytes) query = NULL;
  g_autoptr(GBytes) other_query = NULL;
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *query_path = NULL;
  g_autofree char *reply_path = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  query = imzala_tsa_client_build_query (data, &error);
  g_assert_no_error (error);
  other_query = imzala_tsa_client_build_query (data, &error);
  g_assert_no_error (error);
  /* Two queries over the same data differ: the nonce is fresh. */
  g_assert_false (g_bytes_equal (query, other_query));

  query_path = write_temp ("pure.tsq", query);
  {
    const char *const argv[] = {
      "openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", query_path,
      "-out", "pure.tsr", NULL
    };

    g_assert_cmpint (run (argv, NULL), ==, 0);
  }
  reply_path = g_build_filename (imzala_test_tsa_get_dir (tsa), "pure.tsr", NULL);
  g_assert_true (g_file_get_contents (reply_path, &contents, &length, NULL));
  reply = g_bytes_new_take (g_steal_pointer (&contents), length);

  token = imzala_tsa_client_check_reply (query, reply, &error);
  g_assert_no_error (error);
  g_assert_true (imzala_test_tsa_openssl_verify (tsa, token, data));
  g_clear_pointer (&token, g_bytes_unref);

  /* Same imprint, other nonce. */
  token = imzala_tsa_client_check_reply (other_query, reply, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP);
  g_assert_null (token);
  g_clear_error (&error);

  /* Every truncation is refused, none crashes. */
  for (gsize cut = 0; cut < g_bytes_get_size (reply); cut += 7)
    {
      g_autoptr(GBytes) part = g_bytes_new_from_bytes (reply, 0, cut);

      token = imzala_tsa_client_check_reply (query, part, &error);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP);
      g_assert_null (token);
      g_clear_error (&error);
    }
}

/* ---- CAdES-X-L: certificate and revocation values and references ---- */

static GBytes *
file_bytes (const char *name)
{
  g_autofree char *path = g_build_filename (imzala_test_tsa_get_dir (tsa), name, NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), length);
}

static GBytes *
x509_bytes (X509 *x509)
{
  unsigned char *der = NULL;
  int length = i2d_X509 (x509, &der);
  GBytes *bytes = g_bytes_new (der, length);

  OPENSSL_free (der);
  return bytes;
}

static ASN1_TYPE *
unsigned_attribute (CMS_SignerInfo *si, const char *oid_text)
{
  ASN1_OBJECT *oid = OBJ_txt2obj (oid_text, 1);
  int index = CMS_unsigned_get_attr_by_OBJ (si, oid, -1);

  ASN1_OBJECT_free (oid);
  if (index < 0)
    return NULL;
  /* Exactly one attribute of each type. */
  g_assert_cmpint (CMS_unsigned_get_attr_by_OBJ (si, OBJ_txt2obj (oid_text, 1), index), <, 0);
  return X509_ATTRIBUTE_get0_type (CMS_unsigned_get_attr (si, index), 0);
}

static void
test_validation_data (void)
{
  g_autoptr(GBytes) bes = sign_bes ();
  g_autoptr(ImzalaTsaClient) client = new_client ();
  g_autoptr(GBytes) stamped = NULL;
  g_autoptr(GBytes) xl = NULL;
  g_autoptr(GBytes) ocsp = NULL;
  g_autoptr(GBytes) root = x509_bytes (pki_root->x509);
  g_autoptr(GPtrArray) certificates = g_ptr_array_new ();
  g_autoptr(GPtrArray) revocations = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *leaf_path = write_pem ("leaf.pem", pki_leaf->x509);
  g_autofree char *root_path = write_pem ("root.pem", pki_root->x509);
  g_autofree char *root_key_path = g_build_filename (imzala_test_tsa_get_dir (tsa), "root.key", NULL);
  g_autofree char *index_text = NULL;
  ImzalaCadesRevocation signer_status = { NULL, NULL };
  ImzalaCadesRevocation root_status = { NULL, NULL };
  const unsigned char *p;
  CMS_ContentInfo *cms;
  CMS_SignerInfo *si;
  ASN1_TYPE *value;

  /* The signer's OCSP response, made by `openssl ocsp` from an index that
   * says the certificate is good, signed by the root itself. */
  {
    FILE *file = fopen (root_key_path, "w");
    char serial[64];
    BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (pki_leaf->x509), NULL);
    char *hex = BN_bn2hex (bn);

    g_assert_nonnull (file);
    g_assert_cmpint (PEM_write_PrivateKey (file, pki_root->key, NULL, NULL, 0, NULL, NULL), ==, 1);
    fclose (file);
    g_snprintf (serial, sizeof serial, "%s", hex);
    index_text = g_strdup_printf ("V\t301231235959Z\t\t%s\tunknown\t/CN=leaf\n", serial);
    OPENSSL_free (hex);
    BN_free (bn);
    g_assert_true (g_file_set_contents (g_build_filename (imzala_test_tsa_get_dir (tsa), "index.txt", NULL),
                                        index_text, -1, NULL));
  }
  {
    const char *const request[] = {
      "openssl", "ocsp", "-issuer", root_path, "-cert", leaf_path, "-no_nonce",
      "-reqout", "ocsp.req", NULL
    };
    const char *const respond[] = {
      "openssl", "ocsp", "-index", "index.txt", "-rsigner", root_path, "-rkey", root_key_path,
      "-CA", root_path, "-reqin", "ocsp.req", "-respout", "ocsp.resp", NULL
    };

    g_assert_cmpint (run (request, NULL), ==, 0);
    g_assert_cmpint (run (respond, NULL), ==, 0);
  }
  ocsp = file_bytes ("ocsp.resp");

  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_OK);
  stamped = time_stamp (bes, client, NULL, &error);
  g_assert_no_error (error);

  signer_status.ocsp_response = ocsp;
  g_ptr_array_add (revocations, &signer_status);
  g_ptr_array_add (revocations, &root_status);
  g_ptr_array_add (certificates, root);
  xl = imzala_cades_add_validation_data (stamped, certificates, revocations, &error);
  g_assert_no_error (error);
  g_assert_nonnull (xl);

  /* OpenSSL still accepts the signature, and the time-stamp is unchanged. */
  assert_openssl_cms_verifies (xl);
  {
    g_autoptr(GBytes) before = imzala_test_cms_get_time_stamp_token (stamped);
    g_autoptr(GBytes) after = imzala_test_cms_get_time_stamp_token (xl);

    g_assert_true (g_bytes_equal (before, after));
  }

  /* Read back with the templates: the root's reference and value, the
   * signer's OCSP reference (its hash is the response's) and value. */
  p = g_bytes_get_data (xl, NULL);
  cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (xl));
  g_assert_nonnull (cms);
  si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);

  value = unsigned_attribute (si, IMZALA_OID_CERTIFICATE_VALUES);
  g_assert_nonnull (value);
  {
    const unsigned char *q = ASN1_STRING_get0_data (value->value.sequence);
    IMZALA_CERTIFICATE_VALUES *values = d2i_IMZALA_CERTIFICATE_VALUES (NULL, &q, ASN1_STRING_length (value->value.sequence));

    g_assert_nonnull (values);
    /* The root (also the OCSP responder here) once. */
    g_assert_cmpint (sk_X509_num (values), ==, 1);
    g_assert_cmpint (X509_cmp (sk_X509_value (values, 0), pki_root->x509), ==, 0);
    IMZALA_CERTIFICATE_VALUES_free (values);
  }
  value = unsigned_attribute (si, IMZALA_OID_CERTIFICATE_REFS);
  g_assert_nonnull (value);
  {
    const unsigned char *q = ASN1_STRING_get0_data (value->value.sequence);
    IMZALA_COMPLETE_CERTIFICATE_REFS *refs = d2i_IMZALA_COMPLETE_CERTIFICATE_REFS (NULL, &q, ASN1_STRING_length (value->value.sequence));
    IMZALA_OTHER_CERT_ID *id;
    unsigned char digest[32];
    unsigned int digest_length = 0;

    g_assert_nonnull (refs);
    g_assert_cmpint (sk_IMZALA_OTHER_CERT_ID_num (refs), ==, 1);
    id = sk_IMZALA_OTHER_CERT_ID_value (refs, 0);
    g_assert_cmpint (id->cert_hash->type, ==, IMZALA_OTHER_HASH_OTHER);
    g_assert_true (X509_digest (pki_root->x509, EVP_sha256 (), digest, &digest_length));
    g_assert_cmpmem (ASN1_STRING_get0_data (id->cert_hash->d.other->hash_value), 32, digest, digest_length);
    g_assert_cmpint (ASN1_INTEGER_cmp (id->issuer_serial->serial, X509_get0_serialNumber (pki_root->x509)), ==, 0);
    IMZALA_COMPLETE_CERTIFICATE_REFS_free (refs);
  }
  value = unsigned_attribute (si, IMZALA_OID_REVOCATION_REFS);
  g_assert_nonnull (value);
  {
    const unsigned char *q = ASN1_STRING_get0_data (value->value.sequence);
    IMZALA_COMPLETE_REVOCATION_REFS *refs = d2i_IMZALA_COMPLETE_REVOCATION_REFS (NULL, &q, ASN1_STRING_length (value->value.sequence));
    IMZALA_CRL_OCSP_REF *first;
    IMZALA_OCSP_RESPONSES_ID *id;
    unsigned char digest[32];
    unsigned int digest_length = 0;

    g_assert_nonnull (refs);
    g_assert_cmpint (sk_IMZALA_CRL_OCSP_REF_num (refs), ==, 2);
    first = sk_IMZALA_CRL_OCSP_REF_value (refs, 0);
    g_assert_nonnull (first->ocsp_ids);
    g_assert_null (first->crl_ids);
    id = sk_IMZALA_OCSP_RESPONSES_ID_value (first->ocsp_ids->responses, 0);
    g_assert_true (EVP_Digest (g_bytes_get_data (ocsp, NULL), g_bytes_get_size (ocsp), digest,
                               &digest_length, EVP_sha256 (), NULL));
    g_assert_cmpmem (ASN1_STRING_get0_data (id->response_hash->d.other->hash_value), 32, digest, digest_length);
    g_assert_true (OCSP_RESPID_match (id->identifier->responder_id, pki_root->x509));
    /* The root, a trust anchor, has an empty reference. */
    g_assert_null (sk_IMZALA_CRL_OCSP_REF_value (refs, 1)->ocsp_ids);
    IMZALA_COMPLETE_REVOCATION_REFS_free (refs);
  }
  value = unsigned_attribute (si, IMZALA_OID_REVOCATION_VALUES);
  g_assert_nonnull (value);
  {
    const unsigned char *q = ASN1_STRING_get0_data (value->value.sequence);
    IMZALA_REVOCATION_VALUES *values = d2i_IMZALA_REVOCATION_VALUES (NULL, &q, ASN1_STRING_length (value->value.sequence));
    OCSP_BASICRESP *basic;
    OCSP_CERTID *cert_id;
    int status = -1;

    g_assert_nonnull (values);
    g_assert_null (values->crl_values);
    g_assert_cmpint (sk_OCSP_BASICRESP_num (values->ocsp_values), ==, 1);
    basic = sk_OCSP_BASICRESP_value (values->ocsp_values, 0);
    /* The embedded response still verifies against the root and says
     * "good" for the signer: it can be checked offline later. */
    {
      STACK_OF (X509) *trusted = sk_X509_new_null ();
      X509_STORE *store = imzala_test_identity_store (pki_root);

      sk_X509_push (trusted, pki_root->x509);
      g_assert_cmpint (OCSP_basic_verify (basic, trusted, store, 0), ==, 1);
      sk_X509_free (trusted);
      X509_STORE_free (store);
    }
    cert_id = OCSP_cert_to_id (EVP_sha1 (), pki_leaf->x509, pki_root->x509);
    g_assert_cmpint (OCSP_resp_find_status (basic, cert_id, &status, NULL, NULL, NULL, NULL), ==, 1);
    g_assert_cmpint (status, ==, V_OCSP_CERTSTATUS_GOOD);
    OCSP_CERTID_free (cert_id);
    IMZALA_REVOCATION_VALUES_free (values);
  }
  CMS_ContentInfo_free (cms);
}

/* ---- The whole of -X-L against a PKI with a real OCSP responder ---- */

#define SERIAL_GOOD    0x5101
#define SERIAL_REVOKED 0x5102

static ImzalaTestPki *status_pki;
static ImzalaTestIdentity *status_good;
static ImzalaTestIdentity *status_revoked;

static void
extended_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  wait->result = imzala_cades_extend_finish (result, &wait->error);
  g_main_loop_quit (wait->loop);
}

static GBytes *
extend (GBytes *cms, ImzalaCadesLevel level, GError **error)
{
  g_autoptr(ImzalaTsaClient) client = new_client ();
  Wait wait = { g_main_loop_new (NULL, FALSE), NULL, NULL };

  imzala_cades_extend_async (cms, level, client, NULL, extended_cb, &wait);
  g_main_loop_run (wait.loop);
  g_main_loop_unref (wait.loop);
  if (wait.error != NULL)
    g_propagate_error (error, wait.error);
  return wait.result;
}

static IMZALA_REVOCATION_VALUES *
read_revocation_values (GBytes *cms)
{
  const unsigned char *p = g_bytes_get_data (cms, NULL);
  CMS_ContentInfo *parsed = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (cms));
  CMS_SignerInfo *si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (parsed), 0);
  ASN1_TYPE *value = unsigned_attribute (si, IMZALA_OID_REVOCATION_VALUES);
  IMZALA_REVOCATION_VALUES *values = NULL;

  if (value != NULL)
    {
      const unsigned char *q = ASN1_STRING_get0_data (value->value.sequence);

      values = d2i_IMZALA_REVOCATION_VALUES (NULL, &q, ASN1_STRING_length (value->value.sequence));
    }
  CMS_ContentInfo_free (parsed);
  return values;
}

static void
test_extend_xl (void)
{
  g_autoptr(GBytes) bes = sign_bes_by (status_good, status_pki->ca, NULL);
  g_autoptr(GBytes) xl = NULL;
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  IMZALA_REVOCATION_VALUES *values;

  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_OK);
  xl = extend (bes, IMZALA_CADES_LEVEL_XL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (xl);

  /* The time-stamp is there and OpenSSL accepts it. */
  token = imzala_test_cms_get_time_stamp_token (xl);
  g_assert_nonnull (token);
  signature = imzala_cades_get_signature_value (xl, &error);
  g_assert_true (imzala_test_tsa_openssl_verify (tsa, token, signature));

  /* The responder's answer is embedded, and imzala-cert-status accepts it
   * offline: what the signature carries proves the status without a
   * network. */
  values = read_revocation_values (xl);
  g_assert_nonnull (values);
  g_assert_cmpint (sk_OCSP_BASICRESP_num (values->ocsp_values), ==, 1);
  {
    OCSP_BASICRESP *basic = sk_OCSP_BASICRESP_value (values->ocsp_values, 0);
    OCSP_CERTID *id = OCSP_cert_to_id (EVP_sha1 (), status_good->x509, status_pki->ca->x509);
    int status = -1;

    g_assert_cmpint (OCSP_resp_find_status (basic, id, &status, NULL, NULL, NULL, NULL), ==, 1);
    g_assert_cmpint (status, ==, V_OCSP_CERTSTATUS_GOOD);
    OCSP_CERTID_free (id);
  }
  IMZALA_REVOCATION_VALUES_free (values);

  /* And the CMS itself still verifies with OpenSSL against the CA (an
   * intermediate under the test PKI's root, trusted as the anchor). */
  {
    g_autofree char *cms_path = write_temp ("xl.p7s", xl);
    g_autofree char *ca_path = write_pem ("status-ca.pem", status_pki->ca->x509);
    const char *const argv[] = {
      "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", cms_path,
      "-CAfile", ca_path, "-partial_chain", "-purpose", "any", "-out", "xl.txt", NULL
    };

    g_assert_cmpint (run (argv, NULL), ==, 0);
  }
}

/* A revoked card's certificate: the X-L is refused, not made with a
 * "revoked" response inside. */
static void
test_extend_xl_revoked (void)
{
  g_autoptr(GBytes) bes = sign_bes_by (status_revoked, status_pki->ca, NULL);
  g_autoptr(GBytes) xl = NULL;
  g_autoptr(GError) error = NULL;

  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_OK);
  xl = extend (bes, IMZALA_CADES_LEVEL_XL, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_REVOKED);
  g_assert_null (xl);
}

/* A chain whose status nobody publishes (the first test PKI names no
 * responder): X-L cannot be made and says why; T can. */
static void
test_extend_xl_no_status (void)
{
  g_autoptr(GBytes) bes = sign_bes ();
  g_autoptr(GBytes) xl = NULL;
  g_autoptr(GBytes) t = NULL;
  g_autoptr(GError) error = NULL;

  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_OK);
  xl = extend (bes, IMZALA_CADES_LEVEL_XL, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN);
  g_assert_null (xl);
  g_clear_error (&error);
  t = extend (bes, IMZALA_CADES_LEVEL_T, &error);
  g_assert_no_error (error);
  g_assert_nonnull (imzala_test_cms_get_time_stamp_token (t));
  g_assert_null (read_revocation_values (t));
}

/* The signer's own status, as the job asks it before the PIN. */
static void
test_signer_status (void)
{
  g_autoptr(ImzalaCertStatus) good = NULL;
  g_autoptr(ImzalaCertStatus) revoked = NULL;
  g_autoptr(ImzalaCertStatus) none = NULL;
  STACK_OF (X509) *candidates = sk_X509_new_null ();

  sk_X509_push (candidates, status_pki->ca->x509);
  good = imzala_signer_status_check (status_good->x509, candidates, NULL, NULL);
  g_assert_cmpint (good->status, ==, IMZALA_CERT_STATUS_GOOD);
  g_assert_cmpint (good->source, ==, IMZALA_CERT_STATUS_SOURCE_OCSP);
  /* The issuer found through the AIA caIssuers URL works the same. */
  revoked = imzala_signer_status_check (status_revoked->x509, NULL, NULL, NULL);
  g_assert_cmpint (revoked->status, ==, IMZALA_CERT_STATUS_REVOKED);
  /* No responder named: unknown, with a reason, and nothing fetched. */
  none = imzala_signer_status_check (pki_leaf->x509, NULL, NULL, NULL);
  g_assert_cmpint (none->status, ==, IMZALA_CERT_STATUS_UNKNOWN);
  g_assert_nonnull (strstr (none->reason, "no status service"));
  sk_X509_free (candidates);
}

int
main (int argc, char **argv)
{
  ImzalaTestCertSpec root_spec = {
    .common_name = "İmzala Test Kök", .key = "p256", .ca = TRUE,
  };
  ImzalaTestCertSpec leaf_spec = {
    .common_name = "TEST KİŞİ", .serial_number = "12345678950", .key = "rsa2048",
    .key_usage = "critical,nonRepudiation", .qc_statements_hex = IMZALA_TEST_QC_COMPLIANCE,
  };
  int status;

  g_test_init (&argc, &argv, NULL);

  pki_root = imzala_test_identity_new (&root_spec, NULL);
  pki_leaf = imzala_test_identity_new (&leaf_spec, pki_root);
  tsa = imzala_test_tsa_new ();
  {
    const ImzalaTestPkiEntry entries[] = {
      { SERIAL_GOOD, "Good Signer", 0, NULL },
      { SERIAL_REVOKED, "Lost Card", g_get_real_time () / G_USEC_PER_SEC - 86400, "keyCompromise" },
    };
    const ImzalaTestCertSpec good_spec = {
      .common_name = "Good Signer", .key = "p256", .serial = SERIAL_GOOD,
      .key_usage = "critical,digitalSignature,nonRepudiation",
    };
    const ImzalaTestCertSpec revoked_spec = {
      .common_name = "Lost Card", .key = "p256", .serial = SERIAL_REVOKED,
      .key_usage = "critical,digitalSignature,nonRepudiation",
    };

    status_pki = imzala_test_pki_new (entries, G_N_ELEMENTS (entries));
    status_good = imzala_test_pki_issue (status_pki, &good_spec);
    status_revoked = imzala_test_pki_issue (status_pki, &revoked_spec);
  }

  g_test_add_func ("/cades/time-stamp", test_time_stamp);
  g_test_add_func ("/cades/foreign-token", test_foreign_token);
  g_test_add_func ("/cades/tsa-failures", test_tsa_failures);
  g_test_add_func ("/cades/tsa-silent", test_tsa_silent);
  g_test_add_func ("/cades/tsa-cancel", test_tsa_cancel);
  g_test_add_func ("/cades/tsa-tls", test_tsa_tls);
  g_test_add_func ("/cades/check-reply", test_check_reply);
  g_test_add_func ("/cades/validation-data", test_validation_data);
  g_test_add_func ("/cades/extend-xl", test_extend_xl);
  g_test_add_func ("/cades/extend-xl-revoked", test_extend_xl_revoked);
  g_test_add_func ("/cades/extend-xl-no-status", test_extend_xl_no_status);
  g_test_add_func ("/cades/signer-status", test_signer_status);
  status = g_test_run ();

  imzala_test_identity_free (status_good);
  imzala_test_identity_free (status_revoked);
  imzala_test_pki_free (status_pki);
  imzala_test_tsa_free (tsa);
  imzala_test_identity_free (pki_leaf);
  imzala_test_identity_free (pki_root);
  return status;
}
