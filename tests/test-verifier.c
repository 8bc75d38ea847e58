/* The verifier (imzala-verifier.c) on signatures made by other tools:
 * `openssl cms -sign` (with and without signed attributes, -cades, without
 * certificates, two signers), GnuTLS `certtool --p7-sign`, RFC 3161 tokens
 * from `openssl ts -reply` attached as signature-time-stamps, status from
 * `openssl ocsp -index` and `openssl ca -gencrl` (imzala-test-pki.c), and
 * broken variants of each. Where an independent verifier exists (openssl
 * cms -verify -crl_check, openssl ts -verify) its verdict is compared. */
#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <string.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/ocsp.h>
#include <openssl/sha.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "imzala-core.h"
#include "imzala-test.h"
#include "imzala-test-pki.h"

#define DAY 86400
/* QCStatements: QcCompliance and the BTK statement 2.16.792.1.61.0.1.5070.1.1. */
#define QC_TURKISH "30193008060604008E460101300D060B608618013D0001A74E0101"

enum
{
  SERIAL_ALICE = 0x2001,
  SERIAL_BOB = 0x2002,     /* revoked two days ago */
  SERIAL_TSA = 0x2003,
  SERIAL_OLD_TSA = 0x2004, /* expired yesterday */
  SERIAL_CAROL = 0x2005,
  SERIAL_REVOKED_TSA = 0x2006, /* revoked two days ago */
  SERIAL_DAVE = 0x2007,        /* expired in 2019 */
};

static ImzalaTestPki *pki;
static ImzalaTestIdentity *alice;
static ImzalaTestIdentity *bob;
static ImzalaTestIdentity *carol;
static ImzalaTestIdentity *tsa;
static ImzalaTestIdentity *old_tsa;
static ImzalaTestIdentity *revoked_tsa;
static ImzalaTestIdentity *dave;
static char *content_path;
static const char content_text[] = "Bu metin e-imza ile imzalanmıştır.\n";

static gint64
now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Runs a program in the PKI's folder; returns its stdout, or NULL when it
 * failed (its stderr is logged). */
static char *
run (const char *const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                       | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_subprocess_launcher_set_cwd (launcher, pki->dir);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    {
      g_test_message ("%s %s: %s", argv[0], argv[1], err);
      return NULL;
    }
  return g_steal_pointer (&out);
}

static GBytes *
read_file (const char *name)
{
  g_autofree char *path = g_build_filename (pki->dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (g_steal_pointer (&contents), length);
}

static void
write_file (const char *name, GBytes *bytes)
{
  g_autofree char *path = g_build_filename (pki->dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

static GBytes *
content_bytes (void)
{
  return g_bytes_new_static (content_text, strlen (content_text));
}

static ImzalaTrust *
trust_ca (void)
{
  ImzalaTrust *trust = imzala_trust_new ();

  imzala_trust_add_x509 (trust, pki->ca->x509);
  return trust;
}

static ImzalaVerification *
verify (GBytes *signature, GBytes *content, ImzalaTrust *trust)
{
  g_autoptr(GError) error = NULL;
  ImzalaVerification *result = imzala_verifier_verify (signature, content, trust, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  for (guint i = 0; i < result->signers->len; i++)
    {
      ImzalaSignerReport *report = g_ptr_array_index (result->signers, i);

      g_test_message ("signer %u: %s (%s)", i, imzala_validation_to_string (report->status),
                      report->reason);
      for (guint j = 0; j < report->checks->len; j++)
        {
          ImzalaCheck *check = g_ptr_array_index (report->checks, j);

          g_test_message ("  %s %s: %s", imzala_check_result_to_string (check->result),
                          check->name, check->message);
        }
    }
  return result;
}

static const ImzalaCheck *
find_check (ImzalaVerification *result, guint signer, const char *name)
{
  ImzalaSignerReport *report = g_ptr_array_index (result->signers, signer);

  for (guint i = 0; i < report->checks->len; i++)
    {
      ImzalaCheck *check = g_ptr_array_index (report->checks, i);

      if (g_str_equal (check->name, name))
        return check;
    }
  return NULL;
}

static ImzalaSignerReport *
signer_report (ImzalaVerification *result, guint i)
{
  g_assert_cmpuint (i, <, result->signers->len);
  return g_ptr_array_index (result->signers, i);
}

/* ---- openssl cms -sign ---- */

static GBytes *
openssl_sign (const char *out_name, const char *const *extra)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;

  g_ptr_array_add (argv, "openssl");
  g_ptr_array_add (argv, "cms");
  g_ptr_array_add (argv, "-sign");
  g_ptr_array_add (argv, "-binary");
  g_ptr_array_add (argv, "-md");
  g_ptr_array_add (argv, "sha256");
  g_ptr_array_add (argv, "-in");
  g_ptr_array_add (argv, content_path);
  g_ptr_array_add (argv, "-outform");
  g_ptr_array_add (argv, "DER");
  g_ptr_array_add (argv, "-out");
  g_ptr_array_add (argv, (char *) out_name);
  for (guint i = 0; extra[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra[i]);
  g_ptr_array_add (argv, NULL);
  out = run ((const char *const *) argv->pdata);
  g_assert_nonnull (out);
  return read_file (out_name);
}

/* Attached, with signingTime (OpenSSL's default attributes), no ESS
 * signing-certificate: plain CMS, valid, status by OCSP. */
static void
test_openssl_attached (void)
{
  const char *extra[] = { "-nodetach", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("attached.p7s", extra);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = verify (signature, NULL, trust);
  ImzalaSignerReport *report = signer_report (result, 0);

  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_false (result->detached);
  g_assert_cmpint (report->level, ==, IMZALA_SIGNATURE_LEVEL_CMS);
  g_assert_nonnull (report->signing_time);
  g_assert_true (report->qualified);
  g_assert_nonnull (report->cert_status);
  g_assert_cmpint (report->cert_status->status, ==, IMZALA_CERT_STATUS_GOOD);
  g_assert_cmpint (report->cert_status->source, ==, IMZALA_CERT_STATUS_SOURCE_OCSP);
  g_assert_cmpint (find_check (result, 0, "revocation")->result, ==, IMZALA_CHECK_PASSED);
}

/* -cades adds signing-certificate-v2: CAdES-BES. Detached, so the content
 * is needed; another content does not match. */
static void
test_openssl_cades_detached (void)
{
  const char *extra[] = { "-cades", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("cades.p7s", extra);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(GBytes) content = content_bytes ();
  g_autoptr(GBytes) other = g_bytes_new_static ("something else", 14);
  g_autoptr(ImzalaVerification) result = verify (signature, content, trust);
  g_autoptr(ImzalaVerification) changed = verify (signature, other, trust);
  g_autoptr(GError) error = NULL;
  ImzalaVerification *missing;

  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_true (result->detached);
  g_assert_cmpint (result->level, ==, IMZALA_SIGNATURE_LEVEL_BES);
  g_assert_cmpint (find_check (result, 0, "signing-certificate")->result, ==, IMZALA_CHECK_PASSED);

  g_assert_cmpint (changed->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (changed, 0, "message-digest")->result, ==, IMZALA_CHECK_FAILED);

  missing = imzala_verifier_verify (signature, NULL, trust, NULL, &error);
  g_assert_null (missing);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID);
}

/* -noattr: no signed attributes, so no signingTime; the signature is over
 * the content itself. */
static void
test_openssl_no_attributes (void)
{
  const char *extra[] = { "-nodetach", "-noattr", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("noattr.p7s", extra);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = verify (signature, NULL, trust);
  gsize size;
  guint8 *copy = g_memdup2 (g_bytes_get_data (signature, &size), g_bytes_get_size (signature));
  guint8 *found = memmem (copy, size, "imza ile", 8);
  g_autoptr(GBytes) tampered = NULL;
  g_autoptr(ImzalaVerification) broken = NULL;

  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_null (signer_report (result, 0)->signing_time);

  g_assert_nonnull (found);
  found[0] = 'I';
  tampered = g_bytes_new_take (copy, size);
  broken = verify (tampered, NULL, trust);
  g_assert_cmpint (broken->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (broken, 0, "signature")->result, ==, IMZALA_CHECK_FAILED);
}

/* -nocerts: the signer's certificate must come from the trust. Without it
 * the signature cannot be validated (indeterminate, not invalid). */
static void
test_openssl_no_certificates (void)
{
  const char *extra[] = { "-nodetach", "-nocerts", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("nocerts.p7s", extra);
  g_autoptr(ImzalaTrust) ca_only = trust_ca ();
  g_autoptr(ImzalaTrust) with_signer = trust_ca ();
  g_autoptr(ImzalaVerification) unknown = NULL;
  g_autoptr(ImzalaVerification) result = NULL;

  unknown = verify (signature, NULL, ca_only);
  g_assert_cmpint (unknown->status, ==, IMZALA_VALIDATION_INDETERMINATE);
  g_assert_cmpint (find_check (unknown, 0, "signer-certificate")->result, ==,
                   IMZALA_CHECK_INDETERMINATE);

  imzala_trust_add_x509 (with_signer, alice->x509);
  result = verify (signature, NULL, with_signer);
  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
}

/* The verifier's debug messages about certificates taken from the trust
 * (imzala-verifier-parse.c), counted from main(). */
static guint n_taken_from_trust;
static char *last_taken_from_trust;

/* A signature that carries its CA's certificate, which the trust holds:
 * the verifier takes the trust's own instead of parsing it again, with the
 * same outcome, and describes the trust's certificates once; a BER
 * signature (openssl's -stream) is parsed as it is, and bytes after the
 * signature are refused either way. */
static void
test_known_certificates (void)
{
  const char *with_ca[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key",
                            "-certfile", "ca.pem", NULL };
  const char *streamed_args[] = { "-nodetach", "-cades", "-stream", "-signer", "carol.pem", "-inkey",
                                  "carol.key", "-certfile", "ca.pem", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("with-ca.p7s", with_ca);
  g_autoptr(GBytes) streamed = openssl_sign ("with-ca-ber.p7s", streamed_args);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = NULL;
  g_autoptr(ImzalaVerification) again = NULL;
  g_autoptr(ImzalaVerification) ber = NULL;
  g_autoptr(ImzalaCertificate) described = NULL;
  g_autoptr(GByteArray) trailing = g_byte_array_new ();
  g_autoptr(GBytes) with_trailing = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaSignerReport *report;
  ImzalaVerification *refused;

  n_taken_from_trust = 0;
  result = verify (signature, NULL, trust);
  g_assert_cmpuint (n_taken_from_trust, ==, 1);
  g_assert_cmpstr (last_taken_from_trust, ==, "1 of the signature’s 2 certificates are the trust’s own");
  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (result->level, ==, IMZALA_SIGNATURE_LEVEL_BES);
  g_assert_cmpint (find_check (result, 0, "signing-certificate")->result, ==, IMZALA_CHECK_PASSED);
  report = signer_report (result, 0);
  g_assert_cmpstr (imzala_certificate_get_holder_name (report->certificate), ==, "Alice");
  g_assert_nonnull (report->chain);
  g_assert_cmpuint (report->chain->len, ==, 2);
  /* The signer's description is the chain's first; the CA's is the
   * trust's, the same object in every report. */
  g_assert_true (g_ptr_array_index (report->chain, 0) == report->certificate);
  described = imzala_trust_describe (trust, pki->ca->x509);
  g_assert_true (g_ptr_array_index (report->chain, 1) == described);
  again = verify (signature, NULL, trust);
  g_assert_cmpint (again->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_true (g_ptr_array_index (signer_report (again, 0)->chain, 1) == described);
  g_assert_cmpuint (n_taken_from_trust, ==, 2);

  /* BER: indefinite lengths, which the DER walk leaves to the parser. */
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (streamed, NULL))[1], ==, 0x80);
  ber = verify (streamed, NULL, trust);
  g_assert_cmpuint (n_taken_from_trust, ==, 2);
  g_assert_cmpint (ber->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpstr (imzala_certificate_get_holder_name (signer_report (ber, 0)->certificate), ==, "Carol");

  g_byte_array_append (trailing, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));
  g_byte_array_append (trailing, (const guint8 *) "", 1);
  with_trailing = g_byte_array_free_to_bytes (g_steal_pointer (&trailing));
  refused = imzala_verifier_verify (with_trailing, NULL, trust, NULL, &error);
  g_assert_null (refused);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID);
  g_assert_cmpuint (n_taken_from_trust, ==, 2);
}

/* Two parallel signers, each validated; one revoked makes the whole
 * invalid while the other stays valid. */
static void
test_openssl_two_signers (void)
{
  const char *both_good[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key",
                              "-signer", "carol.pem", "-inkey", "carol.key", NULL };
  const char *one_revoked[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key",
                                "-signer", "bob.pem", "-inkey", "bob.key", NULL };
  g_autoptr(GBytes) good = openssl_sign ("two.p7s", both_good);
  g_autoptr(GBytes) bad = openssl_sign ("two-revoked.p7s", one_revoked);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = verify (good, NULL, trust);
  g_autoptr(ImzalaVerification) revoked = verify (bad, NULL, trust);

  g_assert_cmpuint (result->signers->len, ==, 2);
  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpstr (imzala_certificate_get_holder_name (signer_report (result, 1)->certificate), ==,
                   "Carol");

  g_assert_cmpuint (revoked->signers->len, ==, 2);
  g_assert_cmpint (revoked->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (signer_report (revoked, 0)->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (signer_report (revoked, 1)->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (revoked, 1, "revocation")->result, ==, IMZALA_CHECK_FAILED);
}

/* Offline: the same signature cannot have its status established, unless
 * it carries it (a CRL in the SignedData crls field). */
static void
test_offline_and_embedded_crl (void)
{
  const char *extra[] = { "-nodetach", "-cades", "-signer", "bob.pem", "-inkey", "bob.key", NULL };
  const char *extra_alice[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("bob.p7s", extra);
  g_autoptr(GBytes) alice_signature = openssl_sign ("alice.p7s", extra_alice);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) offline = NULL;
  g_autoptr(ImzalaVerification) embedded = NULL;
  g_autoptr(ImzalaVerification) alice_embedded = NULL;
  g_autoptr(GBytes) with_crl = NULL;
  g_autoptr(GBytes) alice_with_crl = NULL;

  imzala_trust_set_offline (trust, TRUE);
  offline = verify (signature, NULL, trust);
  g_assert_cmpint (offline->status, ==, IMZALA_VALIDATION_INDETERMINATE);
  g_assert_cmpint (find_check (offline, 0, "revocation")->result, ==, IMZALA_CHECK_INDETERMINATE);

  /* The CRL added to the SignedData's crls (not signed, as CMS allows). */
  {
    const unsigned char *p = g_bytes_get_data (signature, NULL);
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (signature));
    const unsigned char *q = g_bytes_get_data (pki->crl, NULL);
    X509_CRL *crl = d2i_X509_CRL (NULL, &q, (long) g_bytes_get_size (pki->crl));
    unsigned char *der = NULL;
    int length;

    g_assert_nonnull (cms);
    g_assert_nonnull (crl);
    g_assert_true (CMS_add1_crl (cms, crl));
    length = i2d_CMS_ContentInfo (cms, &der);
    g_assert_cmpint (length, >, 0);
    with_crl = g_bytes_new (der, length);
    OPENSSL_free (der);
    CMS_ContentInfo_free (cms);

    p = g_bytes_get_data (alice_signature, NULL);
    cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (alice_signature));
    g_assert_true (CMS_add1_crl (cms, crl));
    der = NULL;
    length = i2d_CMS_ContentInfo (cms, &der);
    alice_with_crl = g_bytes_new (der, length);
    OPENSSL_free (der);
    CMS_ContentInfo_free (cms);
    X509_CRL_free (crl);
  }
  embedded = verify (with_crl, NULL, trust);
  g_assert_cmpint (embedded->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (signer_report (embedded, 0)->cert_status->source, ==, IMZALA_CERT_STATUS_SOURCE_CRL);
  alice_embedded = verify (alice_with_crl, NULL, trust);
  g_assert_cmpint (alice_embedded->status, ==, IMZALA_VALIDATION_VALID);
}

/* `openssl cms -verify -crl_check` with the CA's CRL agrees with İmzala on
 * a good and a revoked signer. */
static void
test_openssl_crl_check_agrees (void)
{
  const char *alice_args[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  const char *bob_args[] = { "-nodetach", "-cades", "-signer", "bob.pem", "-inkey", "bob.key", NULL };
  g_autoptr(GBytes) alice_sig = openssl_sign ("agree-alice.p7s", alice_args);
  g_autoptr(GBytes) bob_sig = openssl_sign ("agree-bob.p7s", bob_args);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) ours_alice = verify (alice_sig, NULL, trust);
  g_autoptr(ImzalaVerification) ours_bob = verify (bob_sig, NULL, trust);
  const char *verify_alice[] = { "openssl", "cms", "-verify", "-binary", "-inform", "DER",
                                 "-in", "agree-alice.p7s", "-CAfile", "chain-crl.pem",
                                 "-crl_check", "-purpose", "any", "-out", "/dev/null", NULL };
  const char *verify_bob[] = { "openssl", "cms", "-verify", "-binary", "-inform", "DER",
                               "-in", "agree-bob.p7s", "-CAfile", "chain-crl.pem",
                               "-crl_check", "-purpose", "any", "-out", "/dev/null", NULL };
  g_autofree char *theirs_alice = run (verify_alice);
  g_autofree char *theirs_bob = run (verify_bob);

  g_assert_cmpint (ours_alice->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_nonnull (theirs_alice);
  g_assert_cmpint (ours_bob->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_null (theirs_bob);
}

/* ---- GnuTLS certtool ---- */

static void
test_certtool (void)
{
  const char *attached[] = { "certtool", "--p7-sign", "--p7-time", "--p7-include-cert",
                             "--load-privkey", "alice.key", "--load-certificate", "alice.pem",
                             "--infile", content_path, "--outfile", "certtool.p7s", NULL };
  const char *detached[] = { "certtool", "--p7-detached-sign", "--load-privkey", "carol.key",
                             "--load-certificate", "carol.pem", "--infile", content_path,
                             "--outfile", "certtool-detached.p7s", NULL };
  g_autofree char *out1 = run (attached);
  g_autofree char *out2 = run (detached);
  g_autoptr(GBytes) signature = read_file ("certtool.p7s");
  g_autoptr(GBytes) detached_signature = read_file ("certtool-detached.p7s");
  g_autoptr(GBytes) content = content_bytes ();
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = NULL;
  g_autoptr(ImzalaVerification) detached_result = NULL;

  g_assert_nonnull (out1);
  g_assert_nonnull (out2);
  /* certtool writes PEM ("-----BEGIN PKCS7-----"). */
  result = verify (signature, NULL, trust);
  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_nonnull (signer_report (result, 0)->signing_time);
  detached_result = verify (detached_signature, content, trust);
  g_assert_cmpint (detached_result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_true (detached_result->detached);
}

/* ---- PKI.js (npm, in tests/browser's node) ---- */

static void
test_pkijs (void)
{
  g_autofree char *browser = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "browser", NULL);
  g_autofree char *script = g_build_filename (browser, "pkijs-sign.mjs", NULL);
  g_autofree char *module = g_build_filename (browser, "node_modules", "pkijs", NULL);
  g_autofree char *node = g_find_program_in_path ("node");
  g_autoptr(GBytes) content = content_bytes ();
  g_autoptr(ImzalaTrust) trust = trust_ca ();

  if (node == NULL || !g_file_test (module, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("PKI.js is not installed (cd tests/browser && npm ci)");
      return;
    }

  {
    const char *attached[] = { node, script, "alice.pem", "alice.key", content_path, "pkijs.p7s", NULL };
    const char *detached[] = { node, script, "alice.pem", "alice.key", content_path,
                               "pkijs-detached.p7s", "--detached", NULL };
    g_autofree char *out1 = run (attached);
    g_autofree char *out2 = run (detached);
    g_autoptr(GBytes) signature = NULL;
    g_autoptr(GBytes) detached_signature = NULL;
    g_autoptr(ImzalaVerification) result = NULL;
    g_autoptr(ImzalaVerification) detached_result = NULL;

    g_assert_nonnull (out1);
    g_assert_nonnull (out2);
    signature = read_file ("pkijs.p7s");
    detached_signature = read_file ("pkijs-detached.p7s");
    result = verify (signature, NULL, trust);
    g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
    g_assert_nonnull (signer_report (result, 0)->signing_time);
    detached_result = verify (detached_signature, content, trust);
    g_assert_cmpint (detached_result->status, ==, IMZALA_VALIDATION_VALID);
    g_assert_true (detached_result->detached);
  }
}

/* ---- Time-stamps ---- */

static void
write_tsa_config (void)
{
  g_autofree char *config = g_strdup_printf ("[tsa]\ndefault_tsa = tsa_config\n[tsa_config]\n"
                                             "serial = %s/tsaserial\ncrypto_device = builtin\n"
                                             "signer_digest = sha256\ndefault_policy = 1.2.3.4.1\n"
                                             "digests = sha256, sha384, sha512\naccuracy = secs:1\n"
                                             "ess_cert_id_alg = sha256\ness_cert_id_chain = no\n",
                                             pki->dir);
  g_autoptr(GBytes) bytes = g_bytes_new (config, strlen (config));
  g_autoptr(GBytes) serial = g_bytes_new_static ("01\n", 3);

  write_file ("tsa.cnf", bytes);
  write_file ("tsaserial", serial);
}

/* A token over @data from `openssl ts -reply` signed by @signer_name. */
static GBytes *
openssl_token (GBytes *data, const char *signer_name)
{
  g_autofree char *cert = g_strconcat (signer_name, ".pem", NULL);
  g_autofree char *key = g_strconcat (signer_name, ".key", NULL);
  const char *query[] = { "openssl", "ts", "-query", "-data", "imprinted.bin", "-sha256", "-cert",
                          "-out", "request.tsq", NULL };
  const char *reply[] = { "openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "request.tsq",
                          "-signer", cert, "-inkey", key, "-token_out", "-out", "token.der", NULL };
  g_autofree char *out1 = NULL;
  g_autofree char *out2 = NULL;

  write_file ("imprinted.bin", data);
  out1 = run (query);
  g_assert_nonnull (out1);
  out2 = run (reply);
  g_assert_nonnull (out2);
  return read_file ("token.der");
}

/* A token made in this process with OpenSSL's TSA API, dated @gen_time
 * (openssl ts -reply always uses now). */
static int
backdated_time_cb (struct TS_resp_ctx *ctx, void *data, long *sec, long *usec)
{
  *sec = (long) GPOINTER_TO_SIZE (data);
  *usec = 0;
  return 1;
}

static GBytes *
backdated_token_by (GBytes *data, gint64 gen_time, ImzalaTestIdentity *signer)
{
  TS_RESP_CTX *ctx = TS_RESP_CTX_new ();
  TS_REQ *request = TS_REQ_new ();
  TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new ();
  X509_ALGOR *algorithm = X509_ALGOR_new ();
  ASN1_OBJECT *policy = OBJ_txt2obj ("1.2.3.4.1", 1);
  unsigned char digest[32];
  unsigned char *der = NULL;
  BIO *bio;
  TS_RESP *response;
  PKCS7 *token;
  int length;
  GBytes *result;

  SHA256 (g_bytes_get_data (data, NULL), g_bytes_get_size (data), digest);
  X509_ALGOR_set0 (algorithm, OBJ_nid2obj (NID_sha256), V_ASN1_NULL, NULL);
  TS_MSG_IMPRINT_set_algo (imprint, algorithm);
  TS_MSG_IMPRINT_set_msg (imprint, digest, sizeof digest);
  TS_REQ_set_version (request, 1);
  TS_REQ_set_msg_imprint (request, imprint);
  TS_REQ_set_cert_req (request, 1);
  length = i2d_TS_REQ (request, &der);
  bio = BIO_new_mem_buf (der, length);

  g_assert_true (TS_RESP_CTX_set_signer_cert (ctx, signer->x509));
  g_assert_true (TS_RESP_CTX_set_signer_key (ctx, signer->key));
  g_assert_true (TS_RESP_CTX_set_def_policy (ctx, policy));
  g_assert_true (TS_RESP_CTX_add_md (ctx, EVP_sha256 ()));
  TS_RESP_CTX_set_time_cb (ctx, backdated_time_cb, GSIZE_TO_POINTER ((gsize) gen_time));
  response = TS_RESP_create_response (ctx, bio);
  g_assert_nonnull (response);
  token = TS_RESP_get_token (response);
  g_assert_nonnull (token);
  OPENSSL_free (der);
  der = NULL;
  length = i2d_PKCS7 (token, &der);
  result = g_bytes_new (der, length);

  OPENSSL_free (der);
  BIO_free (bio);
  TS_RESP_free (response);
  TS_RESP_CTX_free (ctx);
  TS_REQ_free (request);
  TS_MSG_IMPRINT_free (imprint);
  X509_ALGOR_free (algorithm);
  ASN1_OBJECT_free (policy);
  return result;
}

static GBytes *
backdated_token (GBytes *data, gint64 gen_time)
{
  return backdated_token_by (data, gen_time, tsa);
}

static GBytes *
signature_value (GBytes *signature)
{
  const unsigned char *p = g_bytes_get_data (signature, NULL);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (signature));
  CMS_SignerInfo *si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);
  ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature (si);
  GBytes *bytes = g_bytes_new (ASN1_STRING_get0_data (value), ASN1_STRING_length (value));

  CMS_ContentInfo_free (cms);
  return bytes;
}

/* The small helper that attaches an unsigned attribute to the first
 * SignerInfo. */
static GBytes *
add_unsigned_attribute (GBytes *signature, int nid, GBytes *value)
{
  const unsigned char *p = g_bytes_get_data (signature, NULL);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (signature));
  CMS_SignerInfo *si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);
  const unsigned char *q = g_bytes_get_data (value, NULL);
  ASN1_TYPE *type = d2i_ASN1_TYPE (NULL, &q, (long) g_bytes_get_size (value));
  unsigned char *der = NULL;
  int length;
  GBytes *result;

  g_assert_nonnull (type);
  g_assert_true (CMS_unsigned_add1_attr_by_NID (si, nid, ASN1_TYPE_get (type),
                                                ASN1_TYPE_get (type) == V_ASN1_SEQUENCE
                                                ? (void *) type->value.sequence
                                                : (void *) type->value.ptr, -1));
  length = i2d_CMS_ContentInfo (cms, &der);
  g_assert_cmpint (length, >, 0);
  result = g_bytes_new (der, length);
  OPENSSL_free (der);
  ASN1_TYPE_free (type);
  CMS_ContentInfo_free (cms);
  return result;
}

/* An attached CAdES-BES by @who (made with OpenSSL's CMS API, which keeps
 * a signingTime that is already there) claiming @signing_time. */
static GBytes *
sign_claiming (ImzalaTestIdentity *who, gint64 signing_time)
{
  BIO *in = BIO_new_mem_buf (content_text, (int) strlen (content_text));
  CMS_ContentInfo *cms = CMS_sign (NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY);
  CMS_SignerInfo *si = CMS_add1_signer (cms, who->x509, who->key, EVP_sha256 (),
                                        CMS_PARTIAL | CMS_BINARY | CMS_CADES);
  ASN1_TIME *claimed = ASN1_TIME_adj (NULL, (time_t) signing_time, 0, 0);
  unsigned char *der = NULL;
  int length;
  GBytes *result;

  g_assert_nonnull (si);
  g_assert_true (CMS_signed_add1_attr_by_NID (si, NID_pkcs9_signingTime, claimed->type, claimed, -1));
  g_assert_true (CMS_final (cms, in, NULL, CMS_BINARY));
  length = i2d_CMS_ContentInfo (cms, &der);
  g_assert_cmpint (length, >, 0);
  result = g_bytes_new (der, length);
  OPENSSL_free (der);
  ASN1_TIME_free (claimed);
  CMS_ContentInfo_free (cms);
  BIO_free (in);
  return result;
}

static GBytes *
timestamped (const char *signer, GBytes **token_out, gboolean over_content, const char *tsa_name)
{
  const char *extra[] = { "-nodetach", "-cades", "-signer", NULL, "-inkey", NULL, NULL };
  g_autofree char *cert = g_strconcat (signer, ".pem", NULL);
  g_autofree char *key = g_strconcat (signer, ".key", NULL);
  g_autofree char *name = g_strconcat ("t-", signer, ".p7s", NULL);
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GBytes) content = content_bytes ();
  g_autoptr(GBytes) token = NULL;

  extra[3] = cert;
  extra[5] = key;
  signature = openssl_sign (name, extra);
  value = signature_value (signature);
  /* A broken variant: the token's imprint is of the content, not of the
   * signature value. */
  token = openssl_token (over_content ? content : value, tsa_name);
  if (token_out != NULL)
    *token_out = g_bytes_ref (token);
  return add_unsigned_attribute (signature, NID_id_smime_aa_timeStampToken, token);
}

/* CAdES-T: the time-stamp proves the time; `openssl ts -verify` accepts the
 * same token. */
static void
test_timestamp (void)
{
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) signature = timestamped ("alice", &token, FALSE, "tsa");
  g_autoptr(GBytes) value = signature_value (signature);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = verify (signature, NULL, trust);
  ImzalaSignerReport *report = signer_report (result, 0);
  const char *ts_verify[] = { "openssl", "ts", "-verify", "-data", "value.bin", "-in", "token.der",
                              "-token_in", "-CAfile", "chain.pem", NULL };
  g_autofree char *theirs = NULL;

  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (result->level, ==, IMZALA_SIGNATURE_LEVEL_T);
  g_assert_nonnull (report->timestamp_time);
  g_assert_true (g_date_time_equal (report->timestamp_time, report->validation_time));
  g_assert_cmpint (find_check (result, 0, "signature-time-stamp")->result, ==, IMZALA_CHECK_PASSED);

  write_file ("value.bin", value);
  write_file ("token.der", token);
  theirs = run (ts_verify);
  g_assert_nonnull (theirs);
  g_assert_nonnull (strstr (theirs, "OK"));
}

static void
test_timestamp_bad_imprint (void)
{
  g_autoptr(GBytes) signature = timestamped ("alice", NULL, TRUE, "tsa");
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = verify (signature, NULL, trust);

  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (result, 0, "signature-time-stamp")->result, ==, IMZALA_CHECK_FAILED);
}

static void
test_timestamp_expired_tsa (void)
{
  g_autoptr(GBytes) signature = timestamped ("alice", NULL, FALSE, "old-tsa");
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = verify (signature, NULL, trust);

  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (result, 0, "signature-time-stamp")->result, ==, IMZALA_CHECK_FAILED);
}

/* Bob's certificate was revoked two days ago. A time-stamp from now proves
 * the signature after the revocation: invalid. One from three days ago
 * proves it before: valid (the status is asked at that time). */
static void
test_revoked_before_and_after (void)
{
  g_autoptr(GBytes) after = timestamped ("bob", NULL, FALSE, "tsa");
  /* Its claimed signingTime is before its time-stamp (a later claim would
   * be false, /verifier/signing-time/after-time-stamp). */
  g_autoptr(GBytes) signature = sign_claiming (bob, now () - 3 * DAY - 60);
  g_autoptr(GBytes) value = signature_value (signature);
  g_autoptr(GBytes) token = backdated_token (value, now () - 3 * DAY);
  g_autoptr(GBytes) before = add_unsigned_attribute (signature, NID_id_smime_aa_timeStampToken, token);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) late = verify (after, NULL, trust);
  g_autoptr(ImzalaVerification) early = verify (before, NULL, trust);
  ImzalaSignerReport *report = signer_report (early, 0);

  g_assert_cmpint (late->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (late, 0, "revocation")->result, ==, IMZALA_CHECK_FAILED);

  g_assert_cmpint (early->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (g_date_time_to_unix (report->validation_time), <=, now () - 3 * DAY + 5);
  g_assert_nonnull (report->cert_status);
  g_assert_cmpint (report->cert_status->status, ==, IMZALA_CERT_STATUS_GOOD);
  g_assert_nonnull (report->cert_status->revocation_time);
}

/* ---- CAdES-C references and X-L values ---- */

static GBytes *
der_wrap (guint8 tag, GBytes *content)
{
  gsize size = g_bytes_get_size (content);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 header[6];
  guint n = 0;

  header[n++] = tag;
  if (size < 0x80)
    header[n++] = (guint8) size;
  else if (size < 0x100)
    {
      header[n++] = 0x81;
      header[n++] = (guint8) size;
    }
  else if (size < 0x10000)
    {
      header[n++] = 0x82;
      header[n++] = (guint8) (size >> 8);
      header[n++] = (guint8) size;
    }
  else
    {
      header[n++] = 0x83;
      header[n++] = (guint8) (size >> 16);
      header[n++] = (guint8) (size >> 8);
      header[n++] = (guint8) size;
    }
  g_byte_array_append (out, header, n);
  g_byte_array_append (out, g_bytes_get_data (content, NULL), (guint) size);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static GBytes *
concat (GBytes *a, GBytes *b)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  g_byte_array_append (out, g_bytes_get_data (a, NULL), (guint) g_bytes_get_size (a));
  if (b != NULL)
    g_byte_array_append (out, g_bytes_get_data (b, NULL), (guint) g_bytes_get_size (b));
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* OtherHash as otherHash { sha256, hash } over @data. */
static GBytes *
other_hash (GBytes *data)
{
  static const guint8 sha256_algorithm[] = { 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                             0x03, 0x04, 0x02, 0x01, 0x05, 0x00 };
  guint8 digest[32];
  g_autoptr(GBytes) algorithm = g_bytes_new_static (sha256_algorithm, sizeof sha256_algorithm);
  g_autoptr(GBytes) digest_bytes = NULL;
  g_autoptr(GBytes) octets = NULL;
  g_autoptr(GBytes) both = NULL;

  SHA256 (g_bytes_get_data (data, NULL), g_bytes_get_size (data), digest);
  digest_bytes = g_bytes_new (digest, sizeof digest);
  octets = der_wrap (0x04, digest_bytes);
  both = concat (algorithm, octets);
  return der_wrap (0x30, both);
}

static GBytes *
basic_ocsp_response (X509 *cert)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request = imzala_cert_status_build_ocsp_request (cert, pki->ca->x509, NULL, &error);
  g_autoptr(GBytes) response = imzala_cert_status_fetch_url (pki->ocsp_url, "application/ocsp-request",
                                                             request, IMZALA_CERT_STATUS_MAX_OCSP_SIZE,
                                                             NULL, &error);
  const unsigned char *p;
  OCSP_RESPONSE *parsed;
  OCSP_BASICRESP *basic;
  unsigned char *der = NULL;
  int length;
  GBytes *result;

  g_assert_no_error (error);
  p = g_bytes_get_data (response, NULL);
  parsed = d2i_OCSP_RESPONSE (NULL, &p, (long) g_bytes_get_size (response));
  basic = OCSP_response_get1_basic (parsed);
  length = i2d_OCSP_BASICRESP (basic, &der);
  result = g_bytes_new (der, length);
  OPENSSL_free (der);
  OCSP_BASICRESP_free (basic);
  OCSP_RESPONSE_free (parsed);
  return result;
}

/* An X-L signature: time-stamped, with complete-certificate-references to
 * the CA certificate, complete-revocation-references to an OCSP response,
 * and their values. @drop_value leaves the CA certificate out of the
 * certificate-values and references a certificate nowhere in the file. */
static GBytes *
make_xl_full (gboolean drop_value, gboolean tsa_status, gboolean values)
{
  g_autoptr(GBytes) t = timestamped ("alice", NULL, FALSE, "tsa");
  g_autoptr(GBytes) tsa_basic = basic_ocsp_response (tsa->x509);
  g_autoptr(GBytes) tsa_ref = NULL, both_refs = NULL, all_basics = NULL;
  g_autoptr(GBytes) ca_der = imzala_test_identity_der (pki->ca);
  g_autoptr(GBytes) stranger_der = imzala_test_identity_der (old_tsa);
  g_autoptr(GBytes) basic = basic_ocsp_response (alice->x509);
  g_autoptr(GBytes) cert_id = NULL, cert_ids = NULL, cert_refs = NULL;
  g_autoptr(GBytes) cert_values = NULL;
  g_autoptr(GBytes) ocsp_identifier = NULL, ocsp_id_content = NULL, ocsp_id = NULL;
  g_autoptr(GBytes) ocsp_ids = NULL, ocsp_list = NULL, tagged_list = NULL, crl_ocsp_ref = NULL;
  g_autoptr(GBytes) revocation_refs = NULL;
  g_autoptr(GBytes) ocsp_vals = NULL, tagged_vals = NULL, revocation_values = NULL;
  g_autoptr(GBytes) step1 = NULL, step2 = NULL, step3 = NULL;
  g_autoptr(GBytes) hash = NULL, ocsp_hash = NULL, responder = NULL;
  g_autoptr(GBytes) responder_key = NULL, identifier_body = NULL;
  static const guint8 produced_at[] = { 0x18, 0x0f, '2', '0', '2', '6', '0', '1', '0', '1',
                                        '0', '0', '0', '0', '0', '0', 'Z' };
  g_autoptr(GBytes) produced = g_bytes_new_static (produced_at, sizeof produced_at);

  /* CompleteCertificateRefs ::= SEQUENCE OF OtherCertID { OtherHash } */
  hash = other_hash (drop_value ? stranger_der : ca_der);
  cert_id = der_wrap (0x30, hash);
  cert_refs = der_wrap (0x30, cert_id);
  /* CertificateValues ::= SEQUENCE OF Certificate */
  cert_values = der_wrap (0x30, ca_der);

  /* CompleteRevocationRefs ::= SEQUENCE OF CrlOcspRef { [1] OcspListID {
   * SEQUENCE OF OcspResponsesID { OcspIdentifier, OtherHash } } } */
  responder_key = g_bytes_new_static ("\x04\x01\x00", 3);
  responder = der_wrap (0xa2, responder_key);
  identifier_body = concat (responder, produced);
  ocsp_identifier = der_wrap (0x30, identifier_body);
  ocsp_hash = other_hash (basic);
  ocsp_id_content = concat (ocsp_identifier, ocsp_hash);
  ocsp_id = der_wrap (0x30, ocsp_id_content);
  ocsp_ids = der_wrap (0x30, ocsp_id);
  ocsp_list = der_wrap (0x30, ocsp_ids);
  tagged_list = der_wrap (0xa1, ocsp_list);
  crl_ocsp_ref = der_wrap (0x30, tagged_list);
  /* The TSA's status (issue 10: in X-L the TSA's status is among the
   * values), referenced by a CrlOcspRef of its own. */
  {
    g_autoptr(GBytes) hash_tsa = other_hash (tsa_basic);
    g_autoptr(GBytes) id_content = concat (ocsp_identifier, hash_tsa);
    g_autoptr(GBytes) id = der_wrap (0x30, id_content);
    g_autoptr(GBytes) ids = der_wrap (0x30, id);
    g_autoptr(GBytes) list = der_wrap (0x30, ids);
    g_autoptr(GBytes) tagged = der_wrap (0xa1, list);

    tsa_ref = der_wrap (0x30, tagged);
  }
  both_refs = concat (crl_ocsp_ref, tsa_status ? tsa_ref : NULL);
  revocation_refs = der_wrap (0x30, both_refs);
  /* RevocationValues ::= SEQUENCE { [1] SEQUENCE OF BasicOCSPResponse } */
  all_basics = concat (basic, tsa_status ? tsa_basic : NULL);
  ocsp_vals = der_wrap (0x30, all_basics);
  tagged_vals = der_wrap (0xa1, ocsp_vals);
  revocation_values = der_wrap (0x30, tagged_vals);

  step1 = add_unsigned_attribute (t, NID_id_smime_aa_ets_CertificateRefs, cert_refs);
  step2 = add_unsigned_attribute (step1, NID_id_smime_aa_ets_RevocationRefs, revocation_refs);
  if (!values)
    return g_steal_pointer (&step2);  /* CAdES-C */
  step3 = add_unsigned_attribute (step2, NID_id_smime_aa_ets_certValues, cert_values);
  return add_unsigned_attribute (step3, NID_id_smime_aa_ets_revocationValues, revocation_values);
}

static GBytes *
make_xl (gboolean drop_value)
{
  return make_xl_full (drop_value, TRUE, TRUE);
}

/* X-L verifies offline from what it carries; a reference without its value
 * is invalid. */
static void
test_xl_offline (void)
{
  g_autoptr(GBytes) xl = make_xl (FALSE);
  g_autoptr(GBytes) broken = make_xl (TRUE);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = NULL;
  g_autoptr(ImzalaVerification) refused = NULL;

  imzala_trust_set_offline (trust, TRUE);
  result = verify (xl, NULL, trust);
  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (result->level, ==, IMZALA_SIGNATURE_LEVEL_XL);
  g_assert_cmpint (find_check (result, 0, "references")->result, ==, IMZALA_CHECK_PASSED);
  g_assert_cmpint (signer_report (result, 0)->cert_status->source, ==, IMZALA_CERT_STATUS_SOURCE_OCSP);
  /* The TSA's status, from the values, offline. */
  g_assert_cmpint (find_check (result, 0, "signature-time-stamp-revocation")->result, ==,
                   IMZALA_CHECK_PASSED);

  refused = verify (broken, NULL, trust);
  g_assert_cmpint (refused->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (refused, 0, "references")->result, ==, IMZALA_CHECK_FAILED);
}

/* ---- Counter-signatures ---- */

static GBytes *
bytes_of_der (int length, unsigned char **der)
{
  GBytes *bytes;

  g_assert_cmpint (length, >, 0);
  bytes = g_bytes_new (*der, length);
  OPENSSL_free (*der);
  *der = NULL;
  return bytes;
}

/* A counter-signature by @who over the first signer's signature value (or
 * over other bytes, @wrong), built by hand as a SignerInfo with one signed
 * attribute (messageDigest), and attached as pkcs9 countersignature. Its
 * signatureAlgorithm fits @who's key, or names the other kind of key when
 * @wrong_algorithm. */
static GBytes *
counter_sign (GBytes *signature, ImzalaTestIdentity *who, gboolean wrong, gboolean wrong_algorithm)
{
  static const guint8 message_digest_oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                                               0x09, 0x04 };
  static const guint8 sha256_algorithm[] = { 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                             0x03, 0x04, 0x02, 0x01, 0x05, 0x00 };
  static const guint8 ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
                                         0x03, 0x02 };
  static const guint8 rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                       0x01, 0x01, 0x0b, 0x05, 0x00 };
  gboolean is_rsa = EVP_PKEY_is_a (who->key, "RSA");
  static const guint8 version[] = { 0x02, 0x01, 0x01 };
  g_autoptr(GBytes) value = signature_value (signature);
  g_autoptr(GBytes) signed_over = wrong ? g_bytes_new_static ("other", 5) : g_bytes_ref (value);
  guint8 digest[32];
  g_autoptr(GBytes) digest_bytes = NULL, octets = NULL, set = NULL, oid = NULL, attribute = NULL;
  g_autoptr(GBytes) attribute_body = NULL, attributes = NULL, tagged = NULL, attributes_content = NULL;
  g_autoptr(GBytes) issuer = NULL, serial = NULL, sid_body = NULL, sid = NULL;
  g_autoptr(GBytes) signature_octets = NULL, signature_bytes = NULL;
  g_autoptr(GBytes) body = NULL, info = NULL, with_attribute = NULL;
  unsigned char *der = NULL;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  size_t length = 0;
  guint8 *signed_value;
  GBytes *parts[6];
  g_autoptr(GByteArray) all = g_byte_array_new ();

  SHA256 (g_bytes_get_data (signed_over, NULL), g_bytes_get_size (signed_over), digest);
  digest_bytes = g_bytes_new (digest, sizeof digest);
  octets = der_wrap (0x04, digest_bytes);
  set = der_wrap (0x31, octets);
  oid = g_bytes_new_static (message_digest_oid, sizeof message_digest_oid);
  attribute_body = concat (oid, set);
  attribute = der_wrap (0x30, attribute_body);
  attributes = der_wrap (0x31, attribute);

  g_assert_true (EVP_DigestSignInit (ctx, NULL, EVP_sha256 (), NULL, who->key));
  g_assert_true (EVP_DigestSign (ctx, NULL, &length, g_bytes_get_data (attributes, NULL),
                                 g_bytes_get_size (attributes)));
  signed_value = g_malloc (length);
  g_assert_true (EVP_DigestSign (ctx, signed_value, &length, g_bytes_get_data (attributes, NULL),
                                 g_bytes_get_size (attributes)));
  EVP_MD_CTX_free (ctx);
  signature_bytes = g_bytes_new_take (signed_value, length);
  signature_octets = der_wrap (0x04, signature_bytes);

  /* The same SET OF as [0] IMPLICIT (short lengths here: two header bytes). */
  attributes_content = g_bytes_new_from_bytes (attributes, 2, g_bytes_get_size (attributes) - 2);
  tagged = der_wrap (0xa0, attributes_content);
  length = (size_t) i2d_X509_NAME (X509_get_issuer_name (who->x509), &der);
  issuer = bytes_of_der ((int) length, &der);
  length = (size_t) i2d_ASN1_INTEGER (X509_get0_serialNumber (who->x509), &der);
  serial = bytes_of_der ((int) length, &der);
  sid_body = concat (issuer, serial);
  sid = der_wrap (0x30, sid_body);

  parts[0] = g_bytes_new_static (version, sizeof version);
  parts[1] = g_bytes_ref (sid);
  parts[2] = g_bytes_new_static (sha256_algorithm, sizeof sha256_algorithm);
  parts[3] = g_bytes_ref (tagged);
  parts[4] = is_rsa != wrong_algorithm ? g_bytes_new_static (rsa_sha256, sizeof rsa_sha256)
                                        : g_bytes_new_static (ecdsa_sha256, sizeof ecdsa_sha256);
  parts[5] = g_bytes_ref (signature_octets);
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      g_byte_array_append (all, g_bytes_get_data (parts[i], NULL), (guint) g_bytes_get_size (parts[i]));
      g_bytes_unref (parts[i]);
    }
  body = g_byte_array_free_to_bytes (g_steal_pointer (&all));
  info = der_wrap (0x30, body);
  with_attribute = add_unsigned_attribute (signature, NID_pkcs9_countersignature, info);

  /* The counter-signer's certificate goes into the SignedData's set. */
  {
    const unsigned char *p = g_bytes_get_data (with_attribute, NULL);
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (with_attribute));
    int der_length;

    g_assert_nonnull (cms);
    g_assert_true (CMS_add1_cert (cms, who->x509));
    der_length = i2d_CMS_ContentInfo (cms, &der);
    CMS_ContentInfo_free (cms);
    return bytes_of_der (der_length, &der);
  }
}

/* A counter-signature is validated like a signer: valid, not over this
 * signature, or by a revoked certificate. */
static void
test_counter_signature (void)
{
  const char *extra[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("countersigned.p7s", extra);
  g_autoptr(GBytes) good = counter_sign (signature, carol, FALSE, FALSE);
  g_autoptr(GBytes) wrong = counter_sign (signature, carol, TRUE, FALSE);
  g_autoptr(GBytes) revoked = counter_sign (signature, bob, FALSE, FALSE);
  g_autoptr(GBytes) wrong_algorithm = counter_sign (signature, carol, FALSE, TRUE);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) good_result = verify (good, NULL, trust);
  g_autoptr(ImzalaVerification) wrong_result = verify (wrong, NULL, trust);
  g_autoptr(ImzalaVerification) revoked_result = NULL;
  g_autoptr(ImzalaVerification) algorithm_result = NULL;
  ImzalaSignerReport *report = signer_report (good_result, 0);
  ImzalaSignerReport *counter;

  g_assert_cmpint (good_result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_nonnull (report->counter_signers);
  g_assert_cmpuint (report->counter_signers->len, ==, 1);
  counter = g_ptr_array_index (report->counter_signers, 0);
  g_assert_cmpint (counter->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpstr (imzala_certificate_get_holder_name (counter->certificate), ==, "Carol");
  g_assert_cmpint (find_check (good_result, 0, "counter-signature")->result, ==, IMZALA_CHECK_PASSED);

  g_assert_cmpint (wrong_result->status, ==, IMZALA_VALIDATION_INVALID);
  counter = g_ptr_array_index (signer_report (wrong_result, 0)->counter_signers, 0);
  g_assert_cmpint (counter->status, ==, IMZALA_VALIDATION_INVALID);

  /* Bob's revoked certificate makes his counter-signature invalid. */
  revoked_result = verify (revoked, NULL, trust);
  g_assert_cmpint (revoked_result->status, ==, IMZALA_VALIDATION_INVALID);
  counter = g_ptr_array_index (signer_report (revoked_result, 0)->counter_signers, 0);
  g_assert_cmpint (counter->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (signer_report (revoked_result, 0)->status, ==, IMZALA_VALIDATION_INVALID);

  /* A signatureAlgorithm for the other kind of key: the signature value
   * itself verifies (OpenSSL goes by the key), yet the counter-signature
   * fails, as a signer's does. */
  algorithm_result = verify (wrong_algorithm, NULL, trust);
  g_assert_cmpint (algorithm_result->status, ==, IMZALA_VALIDATION_INVALID);
  counter = g_ptr_array_index (signer_report (algorithm_result, 0)->counter_signers, 0);
  g_assert_cmpint (counter->status, ==, IMZALA_VALIDATION_INVALID);
  {
    gboolean failed = FALSE;

    for (guint i = 0; i < counter->checks->len; i++)
      {
        ImzalaCheck *check = g_ptr_array_index (counter->checks, i);

        failed |= g_str_equal (check->name, "algorithms") && check->result == IMZALA_CHECK_FAILED;
      }
    g_assert_true (failed);
  }
}

/* ---- Trust from files and folders, and AIA ---- */

/* The issuing CA from the signer's AIA caIssuers, when the trust holds
 * only a root above it... here: the trust holds the CA under another name
 * (a DER file), and an empty trust with AIA leaves it indeterminate. */
static void
test_trust_files_and_folders (void)
{
  const char *extra[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("trust.p7s", extra);
  g_autoptr(GBytes) ca_der = imzala_test_identity_der (pki->ca);
  g_autofree char *folder = g_build_filename (pki->dir, "trusted", NULL);
  g_autofree char *der_path = g_build_filename (folder, "ca.crt", NULL);
  g_autofree char *junk_path = g_build_filename (folder, "readme.crt", NULL);
  g_autofree char *empty = g_build_filename (pki->dir, "empty", NULL);
  g_autoptr(ImzalaTrust) from_file = imzala_trust_new ();
  g_autoptr(ImzalaTrust) from_folder = imzala_trust_new ();
  g_autoptr(ImzalaTrust) from_empty = imzala_trust_new ();
  g_autoptr(ImzalaVerification) result = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (empty, 0700), ==, 0);
  g_file_set_contents (der_path, g_bytes_get_data (ca_der, NULL), (gssize) g_bytes_get_size (ca_der),
                       &error);
  g_assert_no_error (error);
  g_file_set_contents (junk_path, "not a certificate", -1, &error);
  g_assert_no_error (error);

  g_assert_true (imzala_trust_add_path (from_file, der_path, &error));
  g_assert_no_error (error);
  result = verify (signature, NULL, from_file);
  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_clear_pointer (&result, imzala_verification_free);

  /* A folder with one good file and one that is not a certificate. */
  g_assert_true (imzala_trust_add_path (from_folder, folder, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (imzala_trust_get_n_certificates (from_folder), ==, 1);
  result = verify (signature, NULL, from_folder);
  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);

  g_assert_false (imzala_trust_add_path (from_empty, empty, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
  g_clear_error (&error);
  g_assert_false (imzala_trust_add_path (from_empty, junk_path, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
}

/* The signature carries only the signer's certificate and the trust only
 * the root; the issuing CA comes from the signer's AIA caIssuers URL,
 * unless offline. */
static void
test_aia_issuer (void)
{
  const char *extra[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("aia.p7s", extra);
  g_autoptr(ImzalaTrust) trust = imzala_trust_new ();
  g_autoptr(ImzalaTrust) offline = imzala_trust_new ();
  g_autoptr(ImzalaVerification) fetched = NULL;
  g_autoptr(ImzalaVerification) not_fetched = NULL;
  ImzalaSignerReport *report;

  imzala_trust_add_x509 (trust, pki->root->x509);
  fetched = verify (signature, NULL, trust);
  g_assert_cmpint (fetched->status, ==, IMZALA_VALIDATION_VALID);
  report = signer_report (fetched, 0);
  g_assert_cmpuint (report->chain->len, ==, 3);

  imzala_trust_add_x509 (offline, pki->root->x509);
  imzala_trust_set_offline (offline, TRUE);
  not_fetched = verify (signature, NULL, offline);
  g_assert_cmpint (not_fetched->status, ==, IMZALA_VALIDATION_INDETERMINATE);
  g_assert_cmpint (find_check (not_fetched, 0, "chain")->result, ==, IMZALA_CHECK_INDETERMINATE);
  g_assert_nonnull (strstr (find_check (not_fetched, 0, "chain")->message, "offline"));
}

static void
verified_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ImzalaVerification **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = imzala_verifier_verify_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_async (void)
{
  const char *extra[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  g_autoptr(GBytes) signature = openssl_sign ("async.p7s", extra);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  ImzalaVerification *result = NULL;

  imzala_verifier_verify_async (signature, NULL, trust, NULL, verified_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  imzala_verification_free (result);
}

/* The Turkish rule: QcCompliance alone is not qualified. */
static void
test_qualified_rule (void)
{
  const ImzalaTestCertSpec compliance_only = { .common_name = "QC only", .key = "p256",
                                               .qc_statements_hex = IMZALA_TEST_QC_COMPLIANCE };
  g_autoptr(ImzalaTestIdentity) half = imzala_test_identity_new (&compliance_only, pki->ca);

  g_assert_true (imzala_verifier_is_qualified (alice->x509));
  g_assert_false (imzala_verifier_is_qualified (half->x509));
  g_assert_false (imzala_verifier_is_qualified (pki->ca->x509));
}

/* chain-crl.pem: the CA, the root and the CA's CRL, for `openssl cms
 * -verify -CAfile` (OpenSSL 3.0's cms takes CRLs only from there). */
static void
write_chain_with_crl (void)
{
  g_autofree char *path = g_build_filename (pki->dir, "chain-crl.pem", NULL);
  const unsigned char *p = g_bytes_get_data (pki->crl, NULL);
  X509_CRL *crl = d2i_X509_CRL (NULL, &p, (long) g_bytes_get_size (pki->crl));
  BIO *bio = BIO_new_file (path, "w");

  g_assert_nonnull (crl);
  g_assert_nonnull (bio);
  g_assert_true (PEM_write_bio_X509 (bio, pki->ca->x509));
  g_assert_true (PEM_write_bio_X509 (bio, pki->root->x509));
  g_assert_true (PEM_write_bio_X509_CRL (bio, crl));
  BIO_free (bio);
  X509_CRL_free (crl);
}

/* ---- Issue 10: the TSA's own status, signingTime, CAdES-X ---- */

/* A TSA revoked two days ago: its token from now proves nothing (invalid);
 * one from three days ago, before the revocation, counts. */
static void
test_tsa_revoked_before_and_after (void)
{
  g_autoptr(GBytes) late_signed = sign_claiming (alice, now () - 60);
  g_autoptr(GBytes) late_value = signature_value (late_signed);
  g_autoptr(GBytes) late_token = backdated_token_by (late_value, now (), revoked_tsa);
  g_autoptr(GBytes) late = add_unsigned_attribute (late_signed, NID_id_smime_aa_timeStampToken, late_token);
  g_autoptr(GBytes) early_signed = sign_claiming (alice, now () - 3 * DAY - 60);
  g_autoptr(GBytes) early_value = signature_value (early_signed);
  g_autoptr(GBytes) early_token = backdated_token_by (early_value, now () - 3 * DAY, revoked_tsa);
  g_autoptr(GBytes) early = add_unsigned_attribute (early_signed, NID_id_smime_aa_timeStampToken,
                                                    early_token);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) refused = verify (late, NULL, trust);
  g_autoptr(ImzalaVerification) accepted = verify (early, NULL, trust);

  g_assert_cmpint (refused->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (refused, 0, "signature-time-stamp-revocation")->result, ==,
                   IMZALA_CHECK_FAILED);
  g_assert_nonnull (strstr (refused->reason, "time-stamp"));
  /* The token did not count as proof of time. */
  g_assert_null (signer_report (refused, 0)->timestamp_time);

  g_assert_cmpint (accepted->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (find_check (accepted, 0, "signature-time-stamp-revocation")->result, ==,
                   IMZALA_CHECK_PASSED);
  g_assert_nonnull (signer_report (accepted, 0)->timestamp_time);
}

/* X-L whose values leave out the TSA's status: offline, that status is
 * unknown, so the signer is indeterminate; online it is fetched. */
static void
test_tsa_status_unknown_offline (void)
{
  g_autoptr(GBytes) xl = make_xl_full (FALSE, FALSE, TRUE);
  g_autoptr(ImzalaTrust) offline = trust_ca ();
  g_autoptr(ImzalaTrust) online = trust_ca ();
  g_autoptr(ImzalaVerification) open_result = NULL;
  g_autoptr(ImzalaVerification) fetched = NULL;

  imzala_trust_set_offline (offline, TRUE);
  open_result = verify (xl, NULL, offline);
  g_assert_cmpint (open_result->status, ==, IMZALA_VALIDATION_INDETERMINATE);
  g_assert_cmpint (find_check (open_result, 0, "signature-time-stamp-revocation")->result, ==,
                   IMZALA_CHECK_INDETERMINATE);

  fetched = verify (xl, NULL, online);
  g_assert_cmpint (fetched->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (find_check (fetched, 0, "signature-time-stamp-revocation")->result, ==,
                   IMZALA_CHECK_PASSED);
}

/* A signingTime later than the time-stamp is false: invalid, with the
 * reason. Within the tolerance it passes. */
static void
test_signing_time_after_time_stamp (void)
{
  gint64 stamp_time = now ();
  g_autoptr(GBytes) lying = sign_claiming (alice, stamp_time + DAY);
  g_autoptr(GBytes) lying_value = signature_value (lying);
  g_autoptr(GBytes) lying_token = backdated_token (lying_value, stamp_time);
  g_autoptr(GBytes) lie = add_unsigned_attribute (lying, NID_id_smime_aa_timeStampToken, lying_token);
  g_autoptr(GBytes) skewed = sign_claiming (alice, stamp_time + IMZALA_VERIFIER_SIGNING_TIME_TOLERANCE - 60);
  g_autoptr(GBytes) skewed_value = signature_value (skewed);
  g_autoptr(GBytes) skewed_token = backdated_token (skewed_value, stamp_time);
  g_autoptr(GBytes) skew = add_unsigned_attribute (skewed, NID_id_smime_aa_timeStampToken, skewed_token);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) refused = verify (lie, NULL, trust);
  g_autoptr(ImzalaVerification) accepted = verify (skew, NULL, trust);

  g_assert_cmpint (refused->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (refused, 0, "signing-time")->result, ==, IMZALA_CHECK_FAILED);
  g_assert_nonnull (strstr (refused->reason, "claimed signing time is false"));
  g_assert_cmpint (accepted->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (find_check (accepted, 0, "signing-time")->result, ==, IMZALA_CHECK_PASSED);
}

/* Issue 10's example: a certificate that expired in 2019, a signature
 * claiming 2019, time-stamped today. It is validated at the time-stamp's
 * time, not at the claim: invalid. Without the time-stamp nothing proves
 * the claim: indeterminate, never valid. */
static void
test_signing_time_expired_claim (void)
{
  g_autoptr(GDateTime) claim = g_date_time_new_utc (2019, 6, 1, 12, 0, 0);
  g_autoptr(GBytes) signed_bytes = sign_claiming (dave, g_date_time_to_unix (claim));
  g_autoptr(GBytes) value = signature_value (signed_bytes);
  g_autoptr(GBytes) token = backdated_token (value, now ());
  g_autoptr(GBytes) stamped = add_unsigned_attribute (signed_bytes, NID_id_smime_aa_timeStampToken, token);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = verify (stamped, NULL, trust);
  g_autoptr(ImzalaVerification) unproven = verify (signed_bytes, NULL, trust);
  ImzalaSignerReport *report = signer_report (result, 0);

  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (result, 0, "chain")->result, ==, IMZALA_CHECK_FAILED);
  g_assert_cmpint (find_check (result, 0, "signing-time")->result, ==, IMZALA_CHECK_PASSED);
  g_assert_cmpint (g_date_time_get_year (report->signing_time), ==, 2019);
  g_assert_true (g_date_time_equal (report->validation_time, report->timestamp_time));
  g_assert_cmpint (g_date_time_to_unix (report->validation_time), >=, now () - 60);

  g_assert_cmpint (unproven->status, ==, IMZALA_VALIDATION_INDETERMINATE);
  g_assert_cmpint (find_check (unproven, 0, "signing-time")->result, ==, IMZALA_CHECK_SKIPPED);
  g_assert_cmpint (g_date_time_get_year (signer_report (unproven, 0)->validation_time), >, 2019);
}

/* What an escTimeStamp covers (ETSI TS 101 733 §6.3.5): the signature
 * value's octets and the DER of the signature-time-stamp, the
 * complete-certificate-references and the complete-revocation-references
 * attributes. @without_revocation_refs makes a broken variant. */
static GBytes *
esc_covered (GBytes *signature, gboolean without_revocation_refs)
{
  const unsigned char *p = g_bytes_get_data (signature, NULL);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (signature));
  CMS_SignerInfo *si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);
  ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature (si);
  const int nids[] = { NID_id_smime_aa_timeStampToken, NID_id_smime_aa_ets_CertificateRefs,
                       NID_id_smime_aa_ets_RevocationRefs };
  GByteArray *covered = g_byte_array_new ();

  g_byte_array_append (covered, ASN1_STRING_get0_data (value), ASN1_STRING_length (value));
  for (guint i = 0; i < G_N_ELEMENTS (nids) - (without_revocation_refs ? 1 : 0); i++)
    {
      int index = CMS_unsigned_get_attr_by_NID (si, nids[i], -1);
      unsigned char *der = NULL;
      int length;

      g_assert_cmpint (index, >=, 0);
      length = i2d_X509_ATTRIBUTE (CMS_unsigned_get_attr (si, index), &der);
      g_assert_cmpint (length, >, 0);
      g_byte_array_append (covered, der, length);
      OPENSSL_free (der);
    }
  CMS_ContentInfo_free (cms);
  return g_byte_array_free_to_bytes (covered);
}

/* CAdES-X: C with an escTimeStamp is level X (the status fetched, as C
 * carries no values); the same on X-L stays X-L and verifies offline; a
 * token over less than it must cover is invalid. `openssl ts -verify`
 * accepts the token over the same bytes. */
static void
test_cades_x (void)
{
  g_autoptr(GBytes) c = make_xl_full (FALSE, TRUE, FALSE);
  g_autoptr(GBytes) covered = esc_covered (c, FALSE);
  g_autoptr(GBytes) token = openssl_token (covered, "tsa");
  g_autoptr(GBytes) x = add_unsigned_attribute (c, NID_id_smime_aa_ets_escTimeStamp, token);
  g_autoptr(GBytes) short_covered = esc_covered (c, TRUE);
  g_autoptr(GBytes) short_token = openssl_token (short_covered, "tsa");
  g_autoptr(GBytes) broken = add_unsigned_attribute (c, NID_id_smime_aa_ets_escTimeStamp, short_token);
  g_autoptr(GBytes) xl = make_xl (FALSE);
  g_autoptr(GBytes) xl_covered = esc_covered (xl, FALSE);
  g_autoptr(GBytes) xl_token = openssl_token (xl_covered, "tsa");
  g_autoptr(GBytes) xl_x = add_unsigned_attribute (xl, NID_id_smime_aa_ets_escTimeStamp, xl_token);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaTrust) offline = trust_ca ();
  g_autoptr(ImzalaVerification) result = verify (x, NULL, trust);
  g_autoptr(ImzalaVerification) refused = verify (broken, NULL, trust);
  g_autoptr(ImzalaVerification) long_term = NULL;
  const char *ts_verify[] = { "openssl", "ts", "-verify", "-data", "esc-covered.bin", "-in", "esc.der",
                              "-token_in", "-CAfile", "chain.pem", NULL };
  g_autofree char *theirs = NULL;

  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (result->level, ==, IMZALA_SIGNATURE_LEVEL_X);
  g_assert_cmpstr (imzala_signature_level_to_string (result->level), ==, "X");
  g_assert_cmpint (find_check (result, 0, "esc-time-stamp")->result, ==, IMZALA_CHECK_PASSED);
  g_assert_cmpint (find_check (result, 0, "esc-time-stamp-revocation")->result, ==, IMZALA_CHECK_PASSED);

  g_assert_cmpint (refused->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (refused, 0, "esc-time-stamp")->result, ==, IMZALA_CHECK_FAILED);

  imzala_trust_set_offline (offline, TRUE);
  long_term = verify (xl_x, NULL, offline);
  g_assert_cmpint (long_term->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (long_term->level, ==, IMZALA_SIGNATURE_LEVEL_XL);
  g_assert_cmpint (find_check (long_term, 0, "esc-time-stamp")->result, ==, IMZALA_CHECK_PASSED);

  write_file ("esc-covered.bin", covered);
  write_file ("esc.der", token);
  theirs = run (ts_verify);
  g_assert_nonnull (theirs);
  g_assert_nonnull (strstr (theirs, "OK"));
}

/* ---- Issue 12: streamed verification ---- */

static void
file_verified_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ImzalaVerification **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = imzala_verifier_verify_file_finish (result, &error);
  g_assert_no_error (error);
}

static void
progress_cb (guint64 done, guint64 total, gpointer user_data)
{
  guint64 *last = user_data;

  g_assert_cmpuint (done, >=, *last);
  g_assert_cmpuint (done, <=, total);
  *last = done;
}

/* imzala_verifier_verify_stream() on signatures of a 300 KB file made by
 * `openssl cms -sign`: attached DER (the content hashed where it lies, in
 * the file and in memory), attached PEM (read whole), detached with its
 * content; the file variant in a thread with its progress on this
 * thread's context; one changed byte of the content is refused. */
static void
test_stream (void)
{
  const gsize size = 300 * 1000;
  g_autofree char *big = g_malloc (size);
  g_autoptr(GBytes) big_bytes = NULL;
  g_autofree char *attached_path = g_build_filename (pki->dir, "stream-attached.p7s", NULL);
  const char *attached_args[] = { "openssl", "cms", "-sign", "-binary", "-nodetach", "-cades", "-md", "sha384",
                                  "-in", "stream.bin", "-signer", "alice.pem", "-inkey", "alice.key",
                                  "-outform", "DER", "-out", "stream-attached.p7s", NULL };
  const char *pem_args[] = { "openssl", "cms", "-sign", "-binary", "-nodetach", "-in", "stream.bin",
                             "-signer", "alice.pem", "-inkey", "alice.key", "-outform", "PEM",
                             "-out", "stream-attached.pem", NULL };
  const char *detached_args[] = { "openssl", "cms", "-sign", "-binary", "-cades", "-in", "stream.bin",
                                  "-signer", "alice.pem", "-inkey", "alice.key", "-outform", "DER",
                                  "-out", "stream-detached.p7s", NULL };
  g_autofree char *out1 = NULL, *out2 = NULL, *out3 = NULL;
  g_autoptr(GBytes) attached = NULL;
  g_autoptr(GBytes) pem = NULL;
  g_autoptr(GBytes) detached = NULL;
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    big[i] = (char) (i * 7 + i / 1000);
  big_bytes = g_bytes_new (big, size);
  write_file ("stream.bin", big_bytes);
  out1 = run (attached_args);
  out2 = run (pem_args);
  out3 = run (detached_args);
  g_assert_nonnull (out1);
  g_assert_nonnull (out2);
  g_assert_nonnull (out3);
  attached = read_file ("stream-attached.p7s");
  pem = read_file ("stream-attached.pem");
  detached = read_file ("stream-detached.p7s");

  /* Attached DER from memory; PEM; detached with its content. */
  {
    g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes (attached);
    g_autoptr(GInputStream) pem_in = g_memory_input_stream_new_from_bytes (pem);
    g_autoptr(GInputStream) detached_in = g_memory_input_stream_new_from_bytes (detached);
    g_autoptr(GInputStream) content_in = g_memory_input_stream_new_from_bytes (big_bytes);
    g_autoptr(GInputStream) missing_in = g_memory_input_stream_new_from_bytes (detached);
    g_autoptr(ImzalaVerification) result = NULL;
    g_autoptr(ImzalaVerification) from_pem = NULL;
    g_autoptr(ImzalaVerification) separate = NULL;
    g_autoptr(ImzalaVerification) missing = NULL;
    guint64 last = 0;

    result = imzala_verifier_verify_stream (in, NULL, 0, trust, progress_cb, &last, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
    g_assert_false (result->detached);
    g_assert_null (result->content);
    g_assert_cmpuint (result->content_length, ==, size);
    g_assert_cmpuint (last, ==, size);
    g_assert_cmpstr (signer_report (result, 0)->digest, ==, "SHA384");

    from_pem = imzala_verifier_verify_stream (pem_in, NULL, 0, trust, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (from_pem->status, ==, IMZALA_VALIDATION_VALID);

    separate = imzala_verifier_verify_stream (detached_in, content_in, size, trust, NULL, NULL, NULL,
                                              &error);
    g_assert_no_error (error);
    g_assert_cmpint (separate->status, ==, IMZALA_VALIDATION_VALID);
    g_assert_true (separate->detached);
    g_assert_cmpuint (separate->content_length, ==, size);

    missing = imzala_verifier_verify_stream (missing_in, NULL, 0, trust, NULL, NULL, NULL, &error);
    g_assert_null (missing);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID);
    g_clear_error (&error);
  }

  /* The file variant, with progress, then one byte of the content inside
   * the file changed. */
  {
    g_autoptr(GFile) file = g_file_new_for_path (attached_path);
    g_autoptr(ImzalaVerification) result = NULL;
    g_autoptr(ImzalaVerification) changed = NULL;
    g_autoptr(GByteArray) broken = g_byte_array_new ();
    guint64 last = 0;

    imzala_verifier_verify_file_async (file, NULL, trust, progress_cb, &last, NULL, NULL, file_verified_cb,
                                       &result);
    while (result == NULL)
      g_main_context_iteration (NULL, TRUE);
    /* Progress reaches the end before the result (the same context). */
    g_assert_cmpuint (last, ==, size);
    g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);

    g_byte_array_append (broken, g_bytes_get_data (attached, NULL), (guint) g_bytes_get_size (attached));
    broken->data[broken->len / 2] ^= 0x01;
    g_file_set_contents (attached_path, (const char *) broken->data, broken->len, &error);
    g_assert_no_error (error);
    imzala_verifier_verify_file_async (file, NULL, trust, NULL, NULL, NULL, NULL, file_verified_cb, &changed);
    while (changed == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_assert_cmpint (changed->status, ==, IMZALA_VALIDATION_INVALID);
    g_assert_cmpint (find_check (changed, 0, "message-digest")->result, ==, IMZALA_CHECK_FAILED);
  }
}

/* A detached CAdES over @content with a content-time-stamp (signed
 * attribute) whose token's imprint is SHA-512 while the signer hashes with
 * SHA-256: the streamed verifier has to hash the content with both. */
static GBytes *
sign_with_content_time_stamp (GBytes *content)
{
  const char *query[] = { "openssl", "ts", "-query", "-data", "content-ts.bin", "-sha512", "-cert",
                          "-out", "content-ts.tsq", NULL };
  const char *reply[] = { "openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "content-ts.tsq",
                          "-signer", "tsa.pem", "-inkey", "tsa.key", "-token_out",
                          "-out", "content-ts.der", NULL };
  g_autofree char *out1 = NULL;
  g_autofree char *out2 = NULL;
  g_autoptr(GBytes) token = NULL;
  BIO *in = BIO_new_mem_buf (g_bytes_get_data (content, NULL), (int) g_bytes_get_size (content));
  CMS_ContentInfo *cms = CMS_sign (NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY | CMS_DETACHED);
  CMS_SignerInfo *si = CMS_add1_signer (cms, alice->x509, alice->key, EVP_sha256 (),
                                        CMS_PARTIAL | CMS_BINARY | CMS_CADES);
  const unsigned char *p;
  ASN1_TYPE *type;
  unsigned char *der = NULL;
  int length;
  GBytes *result;

  write_file ("content-ts.bin", content);
  out1 = run (query);
  g_assert_nonnull (out1);
  out2 = run (reply);
  g_assert_nonnull (out2);
  token = read_file ("content-ts.der");
  p = g_bytes_get_data (token, NULL);
  type = d2i_ASN1_TYPE (NULL, &p, (long) g_bytes_get_size (token));
  g_assert_nonnull (type);
  g_assert_cmpint (ASN1_TYPE_get (type), ==, V_ASN1_SEQUENCE);
  g_assert_true (CMS_signed_add1_attr_by_NID (si, NID_id_smime_aa_ets_contentTimestamp, V_ASN1_SEQUENCE,
                                              type->value.sequence, -1));
  g_assert_true (CMS_final (cms, in, NULL, CMS_BINARY | CMS_DETACHED));
  length = i2d_CMS_ContentInfo (cms, &der);
  g_assert_cmpint (length, >, 0);
  result = g_bytes_new (der, length);
  OPENSSL_free (der);
  ASN1_TYPE_free (type);
  CMS_ContentInfo_free (cms);
  BIO_free (in);
  return result;
}

/* The content-time-stamp (SHA-512 imprint) and messageDigest (SHA-256) of a
 * detached signature both checked from one streamed pass over the
 * content; one changed byte fails both. */
static void
test_stream_content_time_stamp (void)
{
  const gsize size = 200 * 1000;
  g_autofree guint8 *data = g_malloc (size);
  g_autoptr(GBytes) content = NULL;
  g_autoptr(GBytes) changed_content = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 13 + i / 777);
  content = g_bytes_new (data, size);
  data[size / 2] ^= 0x20;
  changed_content = g_bytes_new (data, size);
  signature = sign_with_content_time_stamp (content);

  {
    g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes (signature);
    g_autoptr(GInputStream) content_in = g_memory_input_stream_new_from_bytes (content);
    g_autoptr(ImzalaVerification) result = imzala_verifier_verify_stream (in, content_in, size, trust,
                                                                          NULL, NULL, NULL, &error);
    ImzalaSignerReport *report;

    g_assert_no_error (error);
    report = signer_report (result, 0);
    g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_VALID);
    g_assert_cmpint (find_check (result, 0, "content-time-stamp")->result, ==, IMZALA_CHECK_PASSED);
    g_assert_cmpint (find_check (result, 0, "content-time-stamp-revocation")->result, ==,
                     IMZALA_CHECK_PASSED);
    g_assert_nonnull (report->content_timestamp_time);
  }
  {
    g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes (signature);
    g_autoptr(GInputStream) content_in = g_memory_input_stream_new_from_bytes (changed_content);
    g_autoptr(ImzalaVerification) result = imzala_verifier_verify_stream (in, content_in, size, trust,
                                                                          NULL, NULL, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_INVALID);
    g_assert_cmpint (find_check (result, 0, "message-digest")->result, ==, IMZALA_CHECK_FAILED);
  }
  /* The same through the in-memory entry point. */
  {
    g_autoptr(ImzalaVerification) result = verify (signature, changed_content, trust);

    g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_INVALID);
  }
}

/* ---- A status authority (imzala_trust_set_status_func()) ---- */

typedef struct
{
  guint     calls;
  guint     evidence;   /* the pieces of evidence it was shown, in all */
  gboolean  answer;     /* FALSE: no opinion */
} Authority;

/* Says "revoked in 2000" when it answers. */
static ImzalaCertStatus *
authority_cb (X509 *cert, X509 *issuer, GDateTime *at, GPtrArray *evidence, gpointer user_data)
{
  Authority *authority = user_data;
  ImzalaCertStatus *status;

  g_assert_nonnull (cert);
  g_assert_nonnull (issuer);
  authority->calls++;
  authority->evidence += evidence != NULL ? evidence->len : 0;
  if (!authority->answer)
    return NULL;
  status = g_new0 (ImzalaCertStatus, 1);
  status->status = IMZALA_CERT_STATUS_REVOKED;
  status->revocation_reason = 1;
  status->revocation_time = g_date_time_new_utc (2000, 1, 1, 0, 0, 0);
  return status;
}

/* The authority is asked before the embedded evidence and overrules it (an
 * X-L whose own OCSP response says good); without an opinion the embedded
 * evidence decides as before. */
static void
test_status_authority (void)
{
  g_autoptr(GBytes) xl = make_xl (FALSE);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) revoked = NULL;
  g_autoptr(ImzalaVerification) embedded = NULL;
  Authority authority = { 0, 0, TRUE };
  ImzalaSignerReport *report;

  imzala_trust_set_offline (trust, TRUE);
  imzala_trust_set_status_func (trust, authority_cb, &authority, NULL);
  revoked = verify (xl, NULL, trust);
  g_assert_cmpuint (authority.calls, >=, 1);
  g_assert_cmpuint (authority.evidence, >=, 1);
  report = signer_report (revoked, 0);
  g_assert_cmpint (report->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_cmpint (find_check (revoked, 0, "revocation")->result, ==, IMZALA_CHECK_FAILED);
  g_assert_cmpint (report->cert_status->status, ==, IMZALA_CERT_STATUS_REVOKED);

  authority = (Authority) { 0, 0, FALSE };
  embedded = verify (xl, NULL, trust);
  g_assert_cmpuint (authority.calls, >=, 1);
  g_assert_cmpint (embedded->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_cmpint (signer_report (embedded, 0)->cert_status->source, ==, IMZALA_CERT_STATUS_SOURCE_OCSP);
}

/* ---- Signatures the authority vouches for (issue 12) ---- */

typedef struct
{
  X509    *issued;          /* what the authority issued; nullable */
  guint    calls;
  gboolean asked_for_ca;    /* every call named the CA as the issuer */
  guint    tsa_calls;       /* calls for the time-stamp authority's certificate */
} Issued;

static gboolean
issued_cb (X509 *cert, X509 *issuer, gpointer user_data)
{
  Issued *issued = user_data;

  issued->asked_for_ca = (issued->calls == 0 || issued->asked_for_ca) && X509_cmp (issuer, pki->ca->x509) == 0;
  issued->calls++;
  if (X509_cmp (cert, tsa->x509) == 0)
    issued->tsa_calls++;
  return issued->issued != NULL && X509_cmp (cert, issued->issued) == 0;
}

/* @x509 with the last byte of its signature changed: the same contents,
 * a signature the CA never made. */
static X509 *
with_other_signature (X509 *x509)
{
  unsigned char *der = NULL;
  int length = i2d_X509 (x509, &der);
  const unsigned char *p = der;
  X509 *changed;

  g_assert_cmpint (length, >, 0);
  der[length - 1] ^= 0x01;
  changed = d2i_X509 (NULL, &p, length);
  OPENSSL_free (der);
  g_assert_nonnull (changed);
  return changed;
}

/* The chain check of @signature's one signer, with @trust. */
static const ImzalaCheck *
chain_check (GBytes *signature, ImzalaTrust *trust, ImzalaVerification **result)
{
  *result = verify (signature, NULL, trust);
  return find_check (*result, 0, "chain");
}

/* Both trusts judge @signature's chain alike. */
static void
assert_same_chain_check (GBytes *signature, ImzalaTrust *plain, ImzalaTrust *vouching, ImzalaCheckResult expected)
{
  g_autoptr(ImzalaVerification) a = NULL;
  g_autoptr(ImzalaVerification) b = NULL;
  const ImzalaCheck *without = chain_check (signature, plain, &a);
  const ImzalaCheck *with = chain_check (signature, vouching, &b);

  g_assert_nonnull (without);
  g_assert_nonnull (with);
  g_assert_cmpint (without->result, ==, expected);
  g_assert_cmpint (with->result, ==, expected);
  g_assert_cmpstr (with->message, ==, without->message);
}

/* A trust whose authority vouches for the certificates it issued
 * (imzala_trust_set_issued_func(), the reference portal's table) leaves
 * exactly that one signature unverified: a certificate with the same
 * contents and a signature the CA never made passes only when the
 * authority names it, and the validity periods are judged as OpenSSL
 * judges them. */
static void
test_issued_func (void)
{
  X509 *forged_x509 = with_other_signature (alice->x509);
  ImzalaTestIdentity forged = { alice->key, forged_x509 };
  const ImzalaTestCertSpec future_spec = { .common_name = "Erin", .key = "p256",
                                           .key_usage = "critical,digitalSignature,nonRepudiation",
                                           .not_before = now () + 10 * DAY, .not_after = now () + 400 * DAY };
  g_autoptr(ImzalaTestIdentity) future = imzala_test_identity_new (&future_spec, pki->ca);
  g_autoptr(GBytes) good = sign_claiming (alice, now () - 60);
  g_autoptr(GBytes) forged_cms = sign_claiming (&forged, now () - 60);
  g_autoptr(GBytes) expired_cms = sign_claiming (dave, now () - 60);
  g_autoptr(GBytes) future_cms = sign_claiming (future, now () - 60);
  g_autoptr(ImzalaTrust) plain = trust_ca ();
  g_autoptr(ImzalaTrust) vouching = trust_ca ();
  g_autoptr(ImzalaVerification) result = NULL;
  Issued issued = { NULL, 0, FALSE, 0 };

  imzala_trust_set_offline (plain, TRUE);
  imzala_trust_set_offline (vouching, TRUE);
  imzala_trust_set_issued_func (vouching, issued_cb, &issued, NULL);

  /* The authority issued none of them: as without it. */
  assert_same_chain_check (good, plain, vouching, IMZALA_CHECK_PASSED);
  assert_same_chain_check (forged_cms, plain, vouching, IMZALA_CHECK_FAILED);
  g_assert_cmpuint (issued.calls, >=, 2);
  g_assert_true (issued.asked_for_ca);

  /* It issued Alice's real certificate: the changed one is still refused. */
  issued = (Issued) { alice->x509, 0, FALSE, 0 };
  assert_same_chain_check (good, plain, vouching, IMZALA_CHECK_PASSED);
  assert_same_chain_check (forged_cms, plain, vouching, IMZALA_CHECK_FAILED);

  /* It names the changed bytes as its own: its word stands for that
   * signature, and only for it. */
  issued = (Issued) { forged_x509, 0, FALSE, 0 };
  g_assert_cmpint (chain_check (forged_cms, vouching, &result)->result, ==, IMZALA_CHECK_PASSED);
  g_clear_pointer (&result, imzala_verification_free);
  g_assert_cmpuint (issued.calls, >=, 1);
  g_assert_true (issued.asked_for_ca);

  /* Validity periods, for certificates it vouches for: Dave's expired in
   * 2019, Erin's begins in ten days. */
  issued = (Issued) { dave->x509, 0, FALSE, 0 };
  assert_same_chain_check (expired_cms, plain, vouching, IMZALA_CHECK_INDETERMINATE);
  g_assert_cmpuint (issued.calls, >=, 1);
  issued = (Issued) { future->x509, 0, FALSE, 0 };
  assert_same_chain_check (future_cms, plain, vouching, IMZALA_CHECK_FAILED);
  g_assert_cmpuint (issued.calls, >=, 1);
  X509_free (forged_x509);
}

/* A time-stamp authority's chain goes through the same function (the
 * reference portal's own TSA is in its table too): a CAdES-T signature is
 * valid at level T with the authority vouching for the TSA's certificate,
 * once for the token's chain (which OpenSSL's TS_RESP_verify_token()
 * verifies, and whose copy the status checks use: it is not verified a
 * second time), and a TSA whose certificate expired before the token is
 * refused as without the function. */
static void
test_issued_func_time_stamp (void)
{
  g_autoptr(GBytes) signature = timestamped ("alice", NULL, FALSE, "tsa");
  g_autoptr(GBytes) old = timestamped ("alice", NULL, FALSE, "old-tsa");
  g_autoptr(ImzalaTrust) vouching = trust_ca ();
  g_autoptr(ImzalaVerification) result = NULL;
  g_autoptr(ImzalaVerification) refused = NULL;
  Issued issued = { tsa->x509, 0, FALSE, 0 };

  imzala_trust_set_offline (vouching, TRUE);
  imzala_trust_set_issued_func (vouching, issued_cb, &issued, NULL);

  result = verify (signature, NULL, vouching);
  g_assert_cmpint (find_check (result, 0, "signature-time-stamp")->result, ==, IMZALA_CHECK_PASSED);
  g_assert_cmpint (result->level, ==, IMZALA_SIGNATURE_LEVEL_T);
  g_assert_cmpuint (issued.tsa_calls, ==, 1);

  issued = (Issued) { old_tsa->x509, 0, FALSE, 0 };
  refused = verify (old, NULL, vouching);
  g_assert_cmpint (find_check (refused, 0, "signature-time-stamp")->result, ==, IMZALA_CHECK_FAILED);
}

/* ---- A signatureAlgorithm that contradicts the key ---- */

/* @signature (attached, one signer) with its SignerInfo's
 * signatureAlgorithm replaced by @nid (no parameters). That field is not
 * signed, so the signature value stays good. */
static GBytes *
with_signature_algorithm (GBytes *signature, int nid)
{
  const unsigned char *p = g_bytes_get_data (signature, NULL);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (signature));
  CMS_SignerInfo *si;
  X509_ALGOR *algorithm = NULL;
  unsigned char *der = NULL;
  int length;

  g_assert_nonnull (cms);
  si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);
  CMS_SignerInfo_get0_algs (si, NULL, NULL, NULL, &algorithm);
  g_assert_nonnull (algorithm);
  g_assert_true (X509_ALGOR_set0 (algorithm, OBJ_nid2obj (nid), V_ASN1_UNDEF, NULL));
  length = i2d_CMS_ContentInfo (cms, &der);
  CMS_ContentInfo_free (cms);
  return bytes_of_der (length, &der);
}

static void
assert_algorithm_refused (GBytes *signature, int nid)
{
  g_autoptr(GBytes) changed = with_signature_algorithm (signature, nid);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) result = verify (changed, NULL, trust);
  const ImzalaCheck *check = find_check (result, 0, "algorithms");

  g_assert_cmpint (result->status, ==, IMZALA_VALIDATION_INVALID);
  g_assert_nonnull (check);
  g_assert_cmpint (check->result, ==, IMZALA_CHECK_FAILED);
  g_assert_cmpstr (signer_report (result, 0)->reason, ==,
                   "The signature names a signature algorithm that does not fit the signer’s key or its "
                   "hash algorithm.");
  /* Refused before the signature is looked at. */
  g_assert_null (find_check (result, 0, "signature"));
}

/* OpenSSL 3.0 verifies an ECDSA signature whatever its signatureAlgorithm
 * says; the verifier refuses one that names RSA over an EC key, ECDSA
 * over an RSA key, or another hash than the digestAlgorithm, as
 * imzala_cms_verify() does. What openssl cms -sign writes (ecdsa-with-SHA256
 * for Alice's P-256 key, rsaEncryption for Bob's RSA key) passes, and
 * sha256WithRSAEncryption over Bob's key too. */
static void
test_signature_algorithm_contradicts_key (void)
{
  const char *alice_extra[] = { "-nodetach", "-cades", "-signer", "alice.pem", "-inkey", "alice.key", NULL };
  const char *bob_extra[] = { "-nodetach", "-cades", "-signer", "bob.pem", "-inkey", "bob.key", NULL };
  g_autoptr(GBytes) by_alice = openssl_sign ("algorithm-alice.p7s", alice_extra);
  g_autoptr(GBytes) by_bob = openssl_sign ("algorithm-bob.p7s", bob_extra);
  g_autoptr(GBytes) bob_sha256_rsa = with_signature_algorithm (by_bob, NID_sha256WithRSAEncryption);
  g_autoptr(ImzalaTrust) trust = trust_ca ();
  g_autoptr(ImzalaVerification) alice_result = verify (by_alice, NULL, trust);
  g_autoptr(ImzalaVerification) bob_result = verify (by_bob, NULL, trust);
  g_autoptr(ImzalaVerification) bob_sha256_rsa_result = verify (bob_sha256_rsa, NULL, trust);

  /* As made: Alice valid, Bob only revoked; nothing about the algorithm. */
  g_assert_cmpint (alice_result->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_null (find_check (alice_result, 0, "algorithms"));
  g_assert_null (find_check (bob_result, 0, "algorithms"));
  g_assert_cmpint (find_check (bob_result, 0, "signature")->result, ==, IMZALA_CHECK_PASSED);
  g_assert_null (find_check (bob_sha256_rsa_result, 0, "algorithms"));
  g_assert_cmpint (find_check (bob_sha256_rsa_result, 0, "signature")->result, ==, IMZALA_CHECK_PASSED);

  assert_algorithm_refused (by_alice, NID_sha256WithRSAEncryption);
  assert_algorithm_refused (by_alice, NID_rsaEncryption);
  assert_algorithm_refused (by_alice, NID_ecdsa_with_SHA384);
  assert_algorithm_refused (by_bob, NID_ecdsa_with_SHA256);
  assert_algorithm_refused (by_bob, NID_sha512WithRSAEncryption);
}

int
main (int argc, char **argv)
{
  int result;
  gint64 earlier = now () - 20 * DAY;
  const ImzalaTestCertSpec alice_spec = { .common_name = "Alice", .serial_number = "12345678950",
                                          .key = "p256", .serial = SERIAL_ALICE,
                                          .key_usage = "critical,digitalSignature,nonRepudiation",
                                          .qc_statements_hex = QC_TURKISH, .not_before = earlier };
  const ImzalaTestCertSpec bob_spec = { .common_name = "Bob", .key = "rsa2048", .serial = SERIAL_BOB,
                                        .key_usage = "critical,digitalSignature,nonRepudiation",
                                        .not_before = earlier };
  const ImzalaTestCertSpec carol_spec = { .common_name = "Carol", .key = "p384", .serial = SERIAL_CAROL,
                                          .key_usage = "critical,digitalSignature,nonRepudiation",
                                          .not_before = earlier };
  const ImzalaTestCertSpec tsa_spec = { .common_name = "Test TSA", .key = "p256", .serial = SERIAL_TSA,
                                        .key_usage = "critical,digitalSignature",
                                        .extended_key_usage = "critical,timeStamping",
                                        .not_before = earlier };
  const ImzalaTestCertSpec old_tsa_spec = { .common_name = "Old TSA", .key = "p256",
                                            .serial = SERIAL_OLD_TSA,
                                            .key_usage = "critical,digitalSignature",
                                            .extended_key_usage = "critical,timeStamping",
                                            .not_before = earlier, .not_after = now () - DAY };
  ImzalaTestPkiEntry entries[] = {
    { SERIAL_ALICE, "Alice", 0, NULL },
    { SERIAL_BOB, "Bob", now () - 2 * DAY, "keyCompromise" },
    { SERIAL_TSA, "Test TSA", 0, NULL },
    { SERIAL_OLD_TSA, "Old TSA", 0, NULL },
    { SERIAL_CAROL, "Carol", 0, NULL },
    { SERIAL_REVOKED_TSA, "Revoked TSA", now () - 2 * DAY, "keyCompromise" },
    { SERIAL_DAVE, "Dave", 0, NULL },
  };
  const ImzalaTestCertSpec revoked_tsa_spec = { .common_name = "Revoked TSA", .key = "p256",
                                                .serial = SERIAL_REVOKED_TSA,
                                                .key_usage = "critical,digitalSignature",
                                                .extended_key_usage = "critical,timeStamping",
                                                .not_before = earlier };
  g_autoptr(GDateTime) dave_from = g_date_time_new_utc (2018, 1, 1, 0, 0, 0);
  g_autoptr(GDateTime) dave_until = g_date_time_new_utc (2019, 12, 31, 0, 0, 0);
  const ImzalaTestCertSpec dave_spec = { .common_name = "Dave", .key = "p256", .serial = SERIAL_DAVE,
                                         .key_usage = "critical,digitalSignature,nonRepudiation",
                                         .not_before = g_date_time_to_unix (dave_from),
                                         .not_after = g_date_time_to_unix (dave_until) };
  g_autoptr(GBytes) content = NULL;

  imzala_test_watch_log ("imzala-verifier", "certificates are the trust’s own", &n_taken_from_trust,
                         &last_taken_from_trust);
  g_test_init (&argc, &argv, NULL);

  pki = imzala_test_pki_new (entries, G_N_ELEMENTS (entries));
  alice = imzala_test_pki_issue (pki, &alice_spec);
  bob = imzala_test_pki_issue (pki, &bob_spec);
  carol = imzala_test_pki_issue (pki, &carol_spec);
  tsa = imzala_test_pki_issue (pki, &tsa_spec);
  old_tsa = imzala_test_pki_issue (pki, &old_tsa_spec);
  revoked_tsa = imzala_test_pki_issue (pki, &revoked_tsa_spec);
  dave = imzala_test_pki_issue (pki, &dave_spec);
  imzala_test_identity_write (alice, pki->dir, "alice");
  imzala_test_identity_write (bob, pki->dir, "bob");
  imzala_test_identity_write (carol, pki->dir, "carol");
  imzala_test_identity_write (tsa, pki->dir, "tsa");
  imzala_test_identity_write (old_tsa, pki->dir, "old-tsa");
  content = content_bytes ();
  write_file ("content.txt", content);
  content_path = g_build_filename (pki->dir, "content.txt", NULL);
  write_file ("ca.crl", pki->crl);
  write_chain_with_crl ();
  write_tsa_config ();

  g_test_add_func ("/verifier/openssl/attached", test_openssl_attached);
  g_test_add_func ("/verifier/openssl/cades-detached", test_openssl_cades_detached);
  g_test_add_func ("/verifier/openssl/no-attributes", test_openssl_no_attributes);
  g_test_add_func ("/verifier/openssl/no-certificates", test_openssl_no_certificates);
  g_test_add_func ("/verifier/openssl/two-signers", test_openssl_two_signers);
  g_test_add_func ("/verifier/known-certificates", test_known_certificates);
  g_test_add_func ("/verifier/openssl/crl-check-agrees", test_openssl_crl_check_agrees);
  g_test_add_func ("/verifier/status/offline-and-embedded-crl", test_offline_and_embedded_crl);
  g_test_add_func ("/verifier/certtool", test_certtool);
  g_test_add_func ("/verifier/pkijs", test_pkijs);
  g_test_add_func ("/verifier/timestamp/valid", test_timestamp);
  g_test_add_func ("/verifier/timestamp/bad-imprint", test_timestamp_bad_imprint);
  g_test_add_func ("/verifier/timestamp/expired-tsa", test_timestamp_expired_tsa);
  g_test_add_func ("/verifier/timestamp/revoked-before-and-after", test_revoked_before_and_after);
  g_test_add_func ("/verifier/xl/offline", test_xl_offline);
  g_test_add_func ("/verifier/counter-signature", test_counter_signature);
  g_test_add_func ("/verifier/trust/files-and-folders", test_trust_files_and_folders);
  g_test_add_func ("/verifier/trust/aia", test_aia_issuer);
  g_test_add_func ("/verifier/async", test_async);
  g_test_add_func ("/verifier/qualified", test_qualified_rule);
  g_test_add_func ("/verifier/tsa-status/revoked-before-and-after", test_tsa_revoked_before_and_after);
  g_test_add_func ("/verifier/tsa-status/unknown-offline", test_tsa_status_unknown_offline);
  g_test_add_func ("/verifier/signing-time/after-time-stamp", test_signing_time_after_time_stamp);
  g_test_add_func ("/verifier/signing-time/expired-claim", test_signing_time_expired_claim);
  g_test_add_func ("/verifier/cades-x", test_cades_x);
  g_test_add_func ("/verifier/stream", test_stream);
  g_test_add_func ("/verifier/stream/content-time-stamp", test_stream_content_time_stamp);
  g_test_add_func ("/verifier/status/authority", test_status_authority);
  g_test_add_func ("/verifier/issued-func", test_issued_func);
  g_test_add_func ("/verifier/issued-func/time-stamp", test_issued_func_time_stamp);
  g_test_add_func ("/verifier/signature-algorithm/contradicts-key", test_signature_algorithm_contradicts_key);

  result = g_test_run ();
  imzala_test_identity_free (alice);
  imzala_test_identity_free (bob);
  imzala_test_identity_free (carol);
  imzala_test_identity_free (tsa);
  imzala_test_identity_free (old_tsa);
  imzala_test_identity_free (revoked_tsa);
  imzala_test_identity_free (dave);
  g_free (content_path);
  imzala_test_pki_free (pki);
  return result;
}
