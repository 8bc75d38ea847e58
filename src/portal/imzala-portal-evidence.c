#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <openssl/err.h>

#include "imzala-portal-evidence.h"

/* The trust's status function data: the PKI, set once before the server
 * listens and read-only afterwards, so several verifying threads may
 * share it. */
typedef struct
{
  ImzalaPortalPki   *pki;
  ImzalaPortalStore *store;
} Authority;

static void
authority_clear (Authority *authority)
{
  g_clear_object (&authority->pki);
  g_clear_object (&authority->store);
}

static void
authority_unref (Authority *authority)
{
  g_atomic_rc_box_release_full (authority, (GDestroyNotify) authority_clear);
}

/* @cert's serial number, when the table is the one to answer for it.
 * The verifier asks along the chain it has just verified, so @issuer
 * signed @cert (checked, or vouched for by table_issued_cb() below):
 * whether @issuer is the portal's issuing CA is all that decides (no
 * second signature verification, issue 12). */
static char *
table_serial (Authority *authority, X509 *cert, X509 *issuer)
{
  if (authority->pki == NULL || authority->store == NULL
      || X509_cmp (issuer, imzala_portal_pki_get_issuing_x509 (authority->pki)) != 0)
    return NULL;
  return imzala_portal_pki_serial_hex (X509_get0_serialNumber (cert));
}

static ImzalaPortalCertStatus
table_lookup (Authority *authority, X509 *cert, X509 *issuer, gint64 *revoked_at, int *reason)
{
  g_autofree char *serial = table_serial (authority, cert, issuer);

  if (serial == NULL)
    return IMZALA_PORTAL_CERT_UNKNOWN;
  return imzala_portal_store_get_certificate_status (authority->store, serial, revoked_at, reason);
}

static ImzalaCertStatus *
status_new (ImzalaCertStatusValue value)
{
  ImzalaCertStatus *status = g_new0 (ImzalaCertStatus, 1);

  status->status = value;
  status->source = IMZALA_CERT_STATUS_SOURCE_NONE;
  status->revocation_reason = -1;
  return status;
}

/* ImzalaTrustStatusFunc. Never NULL: the portal never falls back to
 * evidence it would have to fetch, and evidence embedded by the signer
 * cannot overrule the portal's own records. */
static ImzalaCertStatus *
table_status_cb (X509      *cert,
                 X509      *issuer,
                 GDateTime *at,
                 GPtrArray *evidence,
                 gpointer   user_data)
{
  Authority *authority = user_data;
  ImzalaPortalCertStatus value;
  ImzalaCertStatus *status;
  ImzalaCertStatus *embedded;
  gint64 revoked_at = 0;
  int reason = -1;

  value = table_lookup (authority, cert, issuer, &revoked_at, &reason);
  switch (value)
    {
    case IMZALA_PORTAL_CERT_REVOKED:
      /* As imzala_cert_status_get() says it: a revocation after @at
       * leaves the certificate good at @at, with the revocation known.
       * The checker refuses either (§8.9: not revoked now). */
      status = status_new (at != NULL && revoked_at > g_date_time_to_unix (at)
                           ? IMZALA_CERT_STATUS_GOOD : IMZALA_CERT_STATUS_REVOKED);
      status->revocation_time = g_date_time_new_from_unix_utc (revoked_at);
      status->revocation_reason = reason;
      return status;
    case IMZALA_PORTAL_CERT_GOOD:
      break;
    case IMZALA_PORTAL_CERT_UNKNOWN:
    default:
      /* Not issued by the portal's CA, or not in its table. */
      status = status_new (IMZALA_CERT_STATUS_UNKNOWN);
      status->reason = g_strdup ("The portal does not know this certificate's status.");
      return status;
    }

  /* Good. When the signature carries status evidence (an X-L signature's
   * revocation-values), the answer rests on the piece that verifies and
   * shows the certificate good, so the checker can see that the
   * signature proves its status itself. No fetch: offline. */
  if (evidence != NULL && evidence->len > 0)
    {
      embedded = imzala_cert_status_get (cert, issuer, at, evidence, IMZALA_CERT_STATUS_OFFLINE, NULL);
      if (embedded->status == IMZALA_CERT_STATUS_GOOD && embedded->revocation_time == NULL
          && embedded->evidence != NULL)
        return embedded;
      imzala_cert_status_free (embedded);
    }
  ERR_clear_error ();
  return status_new (IMZALA_CERT_STATUS_GOOD);
}

/* ImzalaTrustIssuedFunc: the portal's issuing CA issued @cert, and @cert
 * is byte for byte the certificate its table holds under that serial
 * number (the portal signed those bytes itself), so its signature need
 * not be verified again. A certificate that differs in one byte (another
 * key's signature over the same contents, say) is verified as any other. */
static gboolean
table_issued_cb (X509 *cert, X509 *issuer, gpointer user_data)
{
  g_autofree char *serial = table_serial (user_data, cert, issuer);
  Authority *authority = user_data;
  unsigned char *der = NULL;
  gboolean issued;
  int size;

  if (serial == NULL)
    return FALSE;
  size = i2d_X509 (cert, &der);
  issued = size > 0 && imzala_portal_store_certificate_is (authority->store, serial, der, (gsize) size);
  OPENSSL_free (der);
  return issued;
}

static Authority *
authority_new (ImzalaPortalPki *pki, ImzalaPortalStore *store)
{
  Authority *authority = g_atomic_rc_box_new0 (Authority);

  authority->pki = pki != NULL ? g_object_ref (pki) : NULL;
  authority->store = store != NULL ? g_object_ref (store) : NULL;
  return authority;
}

/* The status and issued functions share one Authority (refcounted). */
static void
set_authority (ImzalaTrust *trust, Authority *authority)
{
  imzala_trust_set_status_func (trust, table_status_cb, authority, (GDestroyNotify) authority_unref);
  imzala_trust_set_issued_func (trust, table_issued_cb, g_atomic_rc_box_acquire (authority),
                                (GDestroyNotify) authority_unref);
}

ImzalaTrust *
imzala_portal_evidence_new_trust (X509_STORE *anchors)
{
  ImzalaTrust *trust = imzala_trust_new ();

  imzala_trust_add_store (trust, anchors);
  imzala_trust_set_offline (trust, TRUE);
  set_authority (trust, authority_new (NULL, NULL));
  return trust;
}

void
imzala_portal_evidence_set_pki (ImzalaTrust       *trust,
                                ImzalaPortalPki   *pki,
                                ImzalaPortalStore *store)
{
  g_return_if_fail (IMZALA_IS_TRUST (trust));

  /* A new function data each time: the old one is freed by the trust. */
  set_authority (trust, authority_new (pki, store));
}
