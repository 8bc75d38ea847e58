/* Certificate status (imzala-cert-status.c) against real status services:
 * `openssl ocsp -index` as the OCSP responder (a delegated responder
 * certificate), CRLs made by `openssl ca -gencrl`, served over HTTP. */
#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include "imzala-core.h"
#include "imzala-test.h"
#include "imzala-test-pki.h"

#define DAY 86400

enum
{
  SERIAL_GOOD = 0x1001,
  SERIAL_REVOKED = 0x1002,
  SERIAL_NOT_IN_INDEX = 0x1003,
};

static ImzalaTestPki *pki;
static ImzalaTestIdentity *good;
static ImzalaTestIdentity *revoked;
static ImzalaTestIdentity *stranger;
static gint64 revoked_at;

static gint64
now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static GDateTime *
days_ago (int days)
{
  return g_date_time_new_from_unix_utc (now () - (gint64) days * DAY);
}

static void
test_ocsp_good (void)
{
  g_autoptr(ImzalaCertStatus) status = imzala_cert_status_get (good->x509, pki->ca->x509, NULL,
                                                               NULL, IMZALA_CERT_STATUS_FLAGS_NONE,
                                                               NULL);

  g_assert_cmpint (status->status, ==, IMZALA_CERT_STATUS_GOOD);
  g_assert_cmpint (status->source, ==, IMZALA_CERT_STATUS_SOURCE_OCSP);
  g_assert_cmpstr (status->url, ==, pki->ocsp_url);
  g_assert_null (status->revocation_time);
  g_assert_nonnull (status->this_update);
  g_assert_nonnull (status->next_update);
  g_assert_nonnull (status->evidence);
  /* Signed by the delegated responder, not by the CA itself. */
  g_assert_cmpint (X509_cmp (status->evidence_signer, pki->responder->x509), ==, 0);
}

static void
test_ocsp_revoked (void)
{
  g_autoptr(ImzalaCertStatus) status = imzala_cert_status_get (revoked->x509, pki->ca->x509, NULL,
                                                               NULL, IMZALA_CERT_STATUS_FLAGS_NONE,
                                                               NULL);

  g_assert_cmpint (status->status, ==, IMZALA_CERT_STATUS_REVOKED);
  g_assert_cmpint (status->source, ==, IMZALA_CERT_STATUS_SOURCE_OCSP);
  g_assert_nonnull (status->revocation_time);
  g_assert_cmpint (g_date_time_to_unix (status->revocation_time), ==, revoked_at);
  g_assert_cmpint (status->revocation_reason, ==, 1); /* keyCompromise */
}

/* Asked about a time before the revocation, the same answer says good. */
static void
test_ocsp_revoked_after (void)
{
  g_autoptr(GDateTime) before = days_ago (3);
  g_autoptr(GDateTime) after = days_ago (1);
  g_autoptr(ImzalaCertStatus) then = imzala_cert_status_get (revoked->x509, pki->ca->x509, before,
                                                             NULL, IMZALA_CERT_STATUS_FLAGS_NONE,
                                                             NULL);
  g_autoptr(ImzalaCertStatus) later = imzala_cert_status_get (revoked->x509, pki->ca->x509, after,
                                                              NULL, IMZALA_CERT_STATUS_FLAGS_NONE,
                                                              NULL);

  g_assert_cmpint (then->status, ==, IMZALA_CERT_STATUS_GOOD);
  g_assert_nonnull (then->revocation_time);
  g_assert_cmpint (later->status, ==, IMZALA_CERT_STATUS_REVOKED);
}

static void
test_ocsp_unknown (void)
{
  g_autoptr(ImzalaCertStatus) status = imzala_cert_status_get (stranger->x509, pki->ca->x509, NULL,
                                                               NULL, IMZALA_CERT_STATUS_NO_CRL,
                                                               NULL);

  g_assert_cmpint (status->status, ==, IMZALA_CERT_STATUS_UNKNOWN);
  g_assert_nonnull (status->reason);
}

static GBytes *
fetch_response (ImzalaTestIdentity *cert)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request = imzala_cert_status_build_ocsp_request (cert->x509, pki->ca->x509,
                                                                     NULL, &error);
  GBytes *response;

  g_assert_no_error (error);
  response = imzala_cert_status_fetch_url (pki->ocsp_url, "application/ocsp-request", request,
                                           IMZALA_CERT_STATUS_MAX_OCSP_SIZE, NULL, &error);
  g_assert_no_error (error);
  return response;
}

/* A response kept (as a signature embeds it) is checked again offline. */
static void
test_ocsp_embedded_offline (void)
{
  g_autoptr(GBytes) response = fetch_response (good);
  g_autoptr(GPtrArray) evidence = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(ImzalaCertStatus) status = NULL;
  g_autoptr(ImzalaCertStatus) nothing = NULL;

  g_ptr_array_add (evidence, g_bytes_ref (response));
  status = imzala_cert_status_get (good->x509, pki->ca->x509, NULL, evidence,
                                   IMZALA_CERT_STATUS_OFFLINE, NULL);
  g_assert_cmpint (status->status, ==, IMZALA_CERT_STATUS_GOOD);
  g_assert_null (status->url);

  /* The same response says nothing about another certificate. */
  nothing = imzala_cert_status_get (revoked->x509, pki->ca->x509, NULL, evidence,
                                    IMZALA_CERT_STATUS_OFFLINE, NULL);
  g_assert_cmpint (nothing->status, ==, IMZALA_CERT_STATUS_UNKNOWN);
  g_assert_cmpint (nothing->source, ==, IMZALA_CERT_STATUS_SOURCE_NONE);
  g_assert_nonnull (nothing->reason);
}

static void
test_ocsp_tampered (void)
{
  g_autoptr(GBytes) response = fetch_response (good);
  gsize size;
  guint8 *copy = g_memdup2 (g_bytes_get_data (response, &size), g_bytes_get_size (response));
  g_autoptr(GBytes) tampered = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaCertStatus *status;

  /* The responder's certificate is at the end; the signature just before
   * it. Flip a byte in the middle of the signed ResponseData instead: the
   * producedAt time's digits. */
  for (gsize i = 0; i + 15 < size; i++)
    if (copy[i] == 0x18 && copy[i + 1] == 0x0f)
      {
        copy[i + 10] ^= 0x01;
        break;
      }
  tampered = g_bytes_new_take (copy, size);
  status = imzala_cert_status_check_ocsp (tampered, good->x509, pki->ca->x509, NULL, NULL, &error);
  g_assert_null (status);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN);
}

/* A response about the right serial under another issuer is refused: the
 * signer is not that issuer, nor delegated by it. */
static void
test_ocsp_wrong_issuer (void)
{
  const ImzalaTestCertSpec other_spec = { .common_name = "Other CA", .key = "p256", .ca = TRUE };
  g_autoptr(ImzalaTestIdentity) other = imzala_test_identity_new (&other_spec, NULL);
  g_autoptr(GBytes) response = fetch_response (good);
  g_autoptr(GError) error = NULL;
  ImzalaCertStatus *status;

  status = imzala_cert_status_check_ocsp (response, good->x509, other->x509, NULL, NULL, &error);
  g_assert_null (status);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN);
}

/* A response about now does not prove anything about a time after its
 * nextUpdate (a day). */
static void
test_ocsp_not_fresh (void)
{
  g_autoptr(GBytes) response = fetch_response (good);
  g_autoptr(GDateTime) future = g_date_time_new_from_unix_utc (now () + 3 * DAY);
  g_autoptr(GError) error = NULL;
  ImzalaCertStatus *status;

  status = imzala_cert_status_check_ocsp (response, good->x509, pki->ca->x509, future, NULL, &error);
  g_assert_null (status);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN);
}

static void
test_crl_check (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) before = days_ago (3);
  g_autoptr(ImzalaCertStatus) ok = imzala_cert_status_check_crl (pki->crl, good->x509, pki->ca->x509,
                                                                  NULL, &error);
  g_autoptr(ImzalaCertStatus) bad = NULL;
  g_autoptr(ImzalaCertStatus) then = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ok->status, ==, IMZALA_CERT_STATUS_GOOD);
  g_assert_cmpint (ok->source, ==, IMZALA_CERT_STATUS_SOURCE_CRL);

  bad = imzala_cert_status_check_crl (pki->crl, revoked->x509, pki->ca->x509, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bad->status, ==, IMZALA_CERT_STATUS_REVOKED);
  g_assert_cmpint (g_date_time_to_unix (bad->revocation_time), ==, revoked_at);
  g_assert_cmpint (bad->revocation_reason, ==, 1);

  /* Three days ago the certificate was good, and the CRL (made now) says
   * so. */
  then = imzala_cert_status_check_crl (pki->crl, revoked->x509, pki->ca->x509, before, &error);
  g_assert_no_error (error);
  g_assert_cmpint (then->status, ==, IMZALA_CERT_STATUS_GOOD);
}

static void
test_crl_refused (void)
{
  const ImzalaTestCertSpec other_spec = { .common_name = "Other CA", .key = "p256", .ca = TRUE };
  g_autoptr(ImzalaTestIdentity) other = imzala_test_identity_new (&other_spec, NULL);
  g_autoptr(GDateTime) future = g_date_time_new_from_unix_utc (now () + 5 * DAY);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) garbage = g_bytes_new_static ("not a CRL", 9);
  ImzalaCertStatus *status;

  status = imzala_cert_status_check_crl (pki->crl, good->x509, other->x509, NULL, &error);
  g_assert_null (status);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN);
  g_clear_error (&error);

  /* The CRL's nextUpdate is in two days. */
  status = imzala_cert_status_check_crl (pki->crl, good->x509, pki->ca->x509, future, &error);
  g_assert_null (status);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN);
  g_clear_error (&error);

  status = imzala_cert_status_check_crl (garbage, good->x509, pki->ca->x509, NULL, &error);
  g_assert_null (status);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN);
}

/* Without OCSP the CRL distribution point is fetched. */
static void
test_crl_fetched (void)
{
  g_autoptr(ImzalaCertStatus) status = imzala_cert_status_get (revoked->x509, pki->ca->x509, NULL,
                                                               NULL, IMZALA_CERT_STATUS_NO_OCSP,
                                                               NULL);

  g_assert_cmpint (status->status, ==, IMZALA_CERT_STATUS_REVOKED);
  g_assert_cmpint (status->source, ==, IMZALA_CERT_STATUS_SOURCE_CRL);
  g_assert_cmpstr (status->url, ==, pki->crl_url);
}

static void
got_status_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ImzalaCertStatus **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = imzala_cert_status_get_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_async (void)
{
  ImzalaCertStatus *status = NULL;

  imzala_cert_status_get_async (revoked->x509, pki->ca->x509, NULL, NULL,
                                IMZALA_CERT_STATUS_FLAGS_NONE, NULL, got_status_cb, &status);
  while (status == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (status->status, ==, IMZALA_CERT_STATUS_REVOKED);
  imzala_cert_status_free (status);
}

/* A responder that cannot be reached leaves the status unknown, with a
 * reason; the CRL is not asked either when told not to. */
static void
test_unreachable (void)
{
  g_autofree char *url = NULL;
  g_autoptr(ImzalaTestIdentity) cert = NULL;
  g_autoptr(ImzalaCertStatus) status = NULL;
  g_autoptr(ImzalaCertStatus) offline = NULL;
  ImzalaTestCertSpec spec = { .common_name = "Unreachable", .key = "p256" };

  /* A port that was just free and is closed again: connections are refused. */
  url = g_strdup_printf ("http://127.0.0.1:%u/", imzala_test_free_tcp_port ());
  spec.ocsp_url = url;
  cert = imzala_test_identity_new (&spec, pki->ca);

  status = imzala_cert_status_get (cert->x509, pki->ca->x509, NULL, NULL,
                                   IMZALA_CERT_STATUS_NO_CRL, NULL);
  g_assert_cmpint (status->status, ==, IMZALA_CERT_STATUS_UNKNOWN);
  g_assert_nonnull (strstr (status->reason, url));

  offline = imzala_cert_status_get (good->x509, pki->ca->x509, NULL, NULL,
                                    IMZALA_CERT_STATUS_OFFLINE, NULL);
  g_assert_cmpint (offline->status, ==, IMZALA_CERT_STATUS_UNKNOWN);
  g_assert_null (offline->url);
}

int
main (int argc, char **argv)
{
  int result;
  const ImzalaTestCertSpec good_spec = { .common_name = "Good Signer", .key = "p256",
                                         .key_usage = "critical,digitalSignature,nonRepudiation",
                                         .serial = SERIAL_GOOD };
  const ImzalaTestCertSpec revoked_spec = { .common_name = "Lost Card", .key = "p256",
                                            .key_usage = "critical,digitalSignature,nonRepudiation",
                                            .serial = SERIAL_REVOKED };
  const ImzalaTestCertSpec stranger_spec = { .common_name = "Not In Index", .key = "p256",
                                             .serial = SERIAL_NOT_IN_INDEX };
  ImzalaTestPkiEntry entries[2];

  g_test_init (&argc, &argv, NULL);

  revoked_at = now () - 2 * DAY;
  entries[0] = (ImzalaTestPkiEntry) { SERIAL_GOOD, "Good Signer", 0, NULL };
  entries[1] = (ImzalaTestPkiEntry) { SERIAL_REVOKED, "Lost Card", revoked_at, "keyCompromise" };
  pki = imzala_test_pki_new (entries, G_N_ELEMENTS (entries));
  good = imzala_test_pki_issue (pki, &good_spec);
  revoked = imzala_test_pki_issue (pki, &revoked_spec);
  stranger = imzala_test_pki_issue (pki, &stranger_spec);

  g_test_add_func ("/cert-status/ocsp/good", test_ocsp_good);
  g_test_add_func ("/cert-status/ocsp/revoked", test_ocsp_revoked);
  g_test_add_func ("/cert-status/ocsp/revoked-after", test_ocsp_revoked_after);
  g_test_add_func ("/cert-status/ocsp/unknown", test_ocsp_unknown);
  g_test_add_func ("/cert-status/ocsp/embedded-offline", test_ocsp_embedded_offline);
  g_test_add_func ("/cert-status/ocsp/tampered", test_ocsp_tampered);
  g_test_add_func ("/cert-status/ocsp/wrong-issuer", test_ocsp_wrong_issuer);
  g_test_add_func ("/cert-status/ocsp/not-fresh", test_ocsp_not_fresh);
  g_test_add_func ("/cert-status/crl/check", test_crl_check);
  g_test_add_func ("/cert-status/crl/refused", test_crl_refused);
  g_test_add_func ("/cert-status/crl/fetched", test_crl_fetched);
  g_test_add_func ("/cert-status/async", test_async);
  g_test_add_func ("/cert-status/unreachable", test_unreachable);

  result = g_test_run ();
  imzala_test_identity_free (good);
  imzala_test_identity_free (revoked);
  imzala_test_identity_free (stranger);
  imzala_test_pki_free (pki);
  return result;
}
