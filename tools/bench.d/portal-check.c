/* portal-check.c: the portal's acceptance check alone, in process:
 * imzala_portal_check_signature() (one imzala_verifier_verify() with the
 * portal's trust and its table as the status authority) N times over one
 * signature, and the CPU time per check. tools/bench builds it for a row
 * of its own (its portal row times the whole portal); for instruction
 * counts, e.g.
 *
 *   valgrind --tool=callgrind portal-check STATE sig.der TCKN BES 11
 *
 * minus the same with N = 1, divided by 10, is one check.
 *
 * STATE is a portal's --state directory whose table knows the signer: a
 * test's, kept with IMZALA_TEST_KEEP=1 (tests/test-portal-pki.c leaves
 * signed.p7s, Ayşe's BES login, beside its state/). LEVEL T or XL first
 * extends the signature with the portal's own time-stamp and OCSP answer,
 * as imzala-cades.c does for İmzala's signer. Built by hand against a
 * meson build dir:
 *
 *   P="glib-2.0 gio-2.0 gio-unix-2.0 libsoup-3.0 json-glib-1.0 libcrypto libssl sqlite3 p11-kit-1 libpcsclite"
 *   cc -O2 -I_build -I_build/src/core -Isrc/core -Isrc/portal $(pkg-config --cflags $P) \
 *     tools/bench.d/portal-check.c _build/src/portal/libimzala-portal.a \
 *     _build/src/core/libimzala-core.a $(pkg-config --libs $P) -o portal-check
 *
 *   portal-check STATE SIGNATURE.der TCKN BES|T|XL N
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <openssl/cms.h>
#include <openssl/ocsp.h>
#include <openssl/ts.h>

#include "imzala-cades.h"
#include "imzala-portal-ca.h"
#include "imzala-portal-checker.h"
#include "imzala-portal-evidence.h"
#include "imzala-portal-pki.h"

static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static GBytes *
take_der (unsigned char *der, int length)
{
  GBytes *bytes;

  g_assert (length > 0);
  bytes = g_bytes_new (der, length);
  OPENSSL_free (der);
  return bytes;
}

/* A signature-time-stamp from the portal's TSA over @cms's signature. */
static GBytes *
add_time_stamp (ImzalaPortalPki *pki, GBytes *cms, CMS_SignerInfo *si)
{
  g_autoptr(GError) error = NULL;
  ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature (si);
  TS_REQ *query = TS_REQ_new ();
  TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new ();
  X509_ALGOR *algorithm = X509_ALGOR_new ();
  unsigned char digest[32];
  unsigned char *der = NULL;
  g_autoptr(GBytes) query_der = NULL;
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(GBytes) token = NULL;
  const unsigned char *p;
  TS_RESP *response;
  GBytes *stamped;

  EVP_Digest (ASN1_STRING_get0_data (value), ASN1_STRING_length (value), digest, NULL, EVP_sha256 (), NULL);
  X509_ALGOR_set0 (algorithm, OBJ_nid2obj (NID_sha256), V_ASN1_NULL, NULL);
  TS_MSG_IMPRINT_set_algo (imprint, algorithm);
  TS_MSG_IMPRINT_set_msg (imprint, digest, sizeof digest);
  TS_REQ_set_version (query, 1);
  TS_REQ_set_msg_imprint (query, imprint);
  TS_REQ_set_cert_req (query, 1);
  query_der = take_der (der, i2d_TS_REQ (query, &der));
  reply = imzala_portal_pki_answer_tsa (pki, query_der);
  g_assert (reply != NULL);
  p = g_bytes_get_data (reply, NULL);
  response = d2i_TS_RESP (NULL, &p, (long) g_bytes_get_size (reply));
  g_assert (response != NULL);
  der = NULL;
  token = take_der (der, i2d_PKCS7 (TS_RESP_get_token (response), &der));
  stamped = imzala_cades_add_signature_time_stamp (cms, token, &error);
  g_assert_no_error (error);
  TS_RESP_free (response);
  X509_ALGOR_free (algorithm);
  TS_MSG_IMPRINT_free (imprint);
  TS_REQ_free (query);
  return stamped;
}

/* The issuing CA and the portal's OCSP answer about @signer as X-L. */
static GBytes *
add_validation_data (ImzalaPortalPki *pki, GBytes *cms, X509 *signer)
{
  g_autoptr(GError) error = NULL;
  X509 *issuer = imzala_portal_pki_get_issuing_x509 (pki);
  OCSP_REQUEST *request = OCSP_REQUEST_new ();
  unsigned char *der = NULL;
  g_autoptr(GBytes) request_der = NULL;
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GPtrArray) certificates = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) revocations = g_ptr_array_new ();
  ImzalaCadesRevocation revocation = { NULL, NULL };
  GBytes *xl;

  OCSP_request_add0_id (request, OCSP_cert_to_id (NULL, signer, issuer));
  request_der = take_der (der, i2d_OCSP_REQUEST (request, &der));
  response = imzala_portal_pki_answer_ocsp (pki, request_der);
  der = NULL;
  g_ptr_array_add (certificates, take_der (der, i2d_X509 (issuer, &der)));
  revocation.ocsp_response = response;
  g_ptr_array_add (revocations, &revocation);
  xl = imzala_cades_add_validation_data (cms, certificates, revocations, &error);
  g_assert_no_error (error);
  OCSP_REQUEST_free (request);
  return xl;
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaPortalCa) ca = NULL;
  g_autoptr(ImzalaPortalStore) store = NULL;
  g_autoptr(ImzalaPortalPki) pki = NULL;
  g_autoptr(ImzalaTrust) trust = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autofree char *db = NULL;
  g_autofree char *data = NULL;
  const unsigned char *p;
  CMS_ContentInfo *parsed;
  CMS_SignerInfo *si;
  STACK_OF (X509) *certs;
  X509 *signer = NULL;
  X509_STORE *anchors;
  gsize size = 0;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  int n;
  double start;

  if (argc != 6)
    {
      fprintf (stderr, "usage: portal-check STATE SIGNATURE.der TCKN BES|T|XL N\n");
      return 2;
    }
  n = atoi (argv[5]);
  ca = imzala_portal_ca_load_or_create (argv[1], &error);
  g_assert_no_error (error);
  db = g_build_filename (argv[1], "portal.sqlite3", NULL);
  store = imzala_portal_store_open (db, &error);
  g_assert_no_error (error);
  pki = imzala_portal_pki_load_or_create (argv[1], ca, store, &error);
  g_assert_no_error (error);
  anchors = imzala_portal_ca_new_trust_store (ca, NULL, &error);
  g_assert_no_error (error);
  trust = imzala_portal_evidence_new_trust (anchors);
  X509_STORE_free (anchors);
  imzala_portal_evidence_set_pki (trust, pki, store);

  g_file_get_contents (argv[2], &data, &size, &error);
  g_assert_no_error (error);
  cms = g_bytes_new (data, size);
  p = (const unsigned char *) data;
  parsed = d2i_CMS_ContentInfo (NULL, &p, (long) size);
  g_assert (parsed != NULL);
  content = g_bytes_new (ASN1_STRING_get0_data (*CMS_get0_content (parsed)),
                         ASN1_STRING_length (*CMS_get0_content (parsed)));
  si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (parsed), 0);
  certs = CMS_get1_certs (parsed);
  for (int i = 0; i < sk_X509_num (certs) && signer == NULL; i++)
    if (CMS_SignerInfo_cert_cmp (si, sk_X509_value (certs, i)) == 0)
      signer = sk_X509_value (certs, i);
  g_assert (signer != NULL);
  if (g_str_equal (argv[4], "T") || g_str_equal (argv[4], "XL"))
    {
      GBytes *stamped = add_time_stamp (pki, cms, si);

      g_bytes_unref (cms);
      cms = stamped;
    }
  if (g_str_equal (argv[4], "XL"))
    {
      GBytes *xl = add_validation_data (pki, cms, signer);

      g_bytes_unref (cms);
      cms = xl;
    }
  sk_X509_pop_free (certs, X509_free);
  CMS_ContentInfo_free (parsed);

  start = cpu_ms ();
  for (int i = 0; i < n; i++)
    {
      ImzalaPortalSignature *signature =
        imzala_portal_check_signature (trust, cms, content, argv[3], argv[4], now - 3000, now + 3000,
                                       now, &error);

      if (signature == NULL)
        {
          fprintf (stderr, "portal-check: refused: %s\n", error->message);
          return 1;
        }
      imzala_portal_signature_free (signature);
    }
  printf ("%.3f ms per check\n", n > 0 ? (cpu_ms () - start) / n : 0.0);
  return 0;
}
