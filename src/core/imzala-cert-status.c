#define G_LOG_DOMAIN "imzala-cert-status"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "imzala-cert-status.h"
#include "imzala-der-private.h"
#include "imzala-http-session.h"
#include "imzala-error.h"
#include "imzala-openssl-thread.h"

/* The checks follow RFC 6960 (OCSP) and RFC 5280 §6.3 (CRLs). Everything
 * here reads data from the network or from a signature file of unknown
 * origin: each step checks its input and fails with an error, never with an
 * assertion. */

void
imzala_cert_status_free (ImzalaCertStatus *status)
{
  if (status == NULL)
    return;
  g_clear_pointer (&status->revocation_time, g_date_time_unref);
  g_clear_pointer (&status->this_update, g_date_time_unref);
  g_clear_pointer (&status->next_update, g_date_time_unref);
  g_clear_pointer (&status->produced_at, g_date_time_unref);
  g_clear_pointer (&status->evidence, g_bytes_unref);
  X509_free (status->evidence_signer);
  g_free (status->url);
  g_free (status->reason);
  g_free (status);
}

const char *
imzala_cert_status_value_to_string (ImzalaCertStatusValue value)
{
  switch (value)
    {
    case IMZALA_CERT_STATUS_GOOD:
      return "good";
    case IMZALA_CERT_STATUS_REVOKED:
      return "revoked";
    case IMZALA_CERT_STATUS_UNKNOWN:
    default:
      return "unknown";
    }
}

const char *
imzala_cert_status_source_to_string (ImzalaCertStatusSource source)
{
  switch (source)
    {
    case IMZALA_CERT_STATUS_SOURCE_OCSP:
      return "ocsp";
    case IMZALA_CERT_STATUS_SOURCE_CRL:
      return "crl";
    case IMZALA_CERT_STATUS_SOURCE_NONE:
    default:
      return "none";
    }
}

static void
log_openssl_errors (const char *what)
{
  unsigned long code;

  while ((code = ERR_get_error ()) != 0)
    {
      char buffer[256];

      ERR_error_string_n (code, buffer, sizeof buffer);
      g_debug ("%s: %s", what, buffer);
    }
}

static GDateTime *
date_time_from_asn1 (const ASN1_TIME *time)
{
  struct tm tm = { 0 };

  if (time == NULL || !ASN1_TIME_check (time) || !ASN1_TIME_to_tm (time, &tm))
    return NULL;
  return g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static gboolean
unusable (GError **error, const char *detail)
{
  g_debug ("Status evidence refused: %s", detail);
  log_openssl_errors ("OpenSSL");
  g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN,
                       _("The certificate status information is not valid or not about this "
                         "certificate."));
  return FALSE;
}

static gboolean
not_fresh (GError **error, const char *detail)
{
  g_debug ("Status evidence refused: %s", detail);
  g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN,
                       _("The certificate status information is out of date for the time the "
                         "signature is checked at."));
  return FALSE;
}

static gint64
unix_at (GDateTime *at)
{
  return at != NULL ? g_date_time_to_unix (at) : g_get_real_time () / G_USEC_PER_SEC;
}

/* Freshness for the time @at (RFC 6960 §4.2.2.1, ETSI EN 319 102-1 §5.2.5):
 * evidence issued at or after @at proves the status at @at; evidence issued
 * before it only while it was current (nextUpdate after @at). Nothing may
 * come from the future. */
static gboolean
check_freshness (ImzalaCertStatus *status, GDateTime *at, GError **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 when = unix_at (at);
  gint64 this_update = g_date_time_to_unix (status->this_update);

  if (this_update > now + IMZALA_CERT_STATUS_CLOCK_SKEW_SECONDS)
    return unusable (error, "thisUpdate in the future");
  if (status->next_update != NULL
      && g_date_time_to_unix (status->next_update) < this_update)
    return unusable (error, "nextUpdate before thisUpdate");

  /* A revocation at or before @at is proof whatever the evidence's age. */
  if (status->status == IMZALA_CERT_STATUS_REVOKED)
    return TRUE;

  if (this_update + IMZALA_CERT_STATUS_CLOCK_SKEW_SECONDS >= when)
    {
      /* Issued after @at. When @at is now, it must also still be current. */
      if (at == NULL && status->next_update != NULL
          && g_date_time_to_unix (status->next_update) + IMZALA_CERT_STATUS_CLOCK_SKEW_SECONDS < now)
        return not_fresh (error, "nextUpdate has passed");
      return TRUE;
    }
  if (status->next_update != NULL
      && g_date_time_to_unix (status->next_update) + IMZALA_CERT_STATUS_CLOCK_SKEW_SECONDS >= when)
    return TRUE;
  return not_fresh (error, "issued before the time asked about and no longer current then");
}

/* Applies a revocation found in the evidence: revoked at or before @at makes
 * the certificate revoked at @at; after it, the certificate was still good
 * then. The revocation time is kept either way. */
static void
apply_revocation (ImzalaCertStatus *status, const ASN1_TIME *revoked_at, int reason, GDateTime *at)
{
  status->revocation_time = date_time_from_asn1 (revoked_at);
  status->revocation_reason = reason;
  if (status->revocation_time == NULL
      || g_date_time_to_unix (status->revocation_time) <= unix_at (at))
    status->status = IMZALA_CERT_STATUS_REVOKED;
  else
    status->status = IMZALA_CERT_STATUS_GOOD;
}

static ImzalaCertStatus *
status_new (ImzalaCertStatusSource source, GBytes *evidence)
{
  ImzalaCertStatus *status = g_new0 (ImzalaCertStatus, 1);

  status->status = IMZALA_CERT_STATUS_UNKNOWN;
  status->source = source;
  status->revocation_reason = -1;
  status->evidence = evidence != NULL ? g_bytes_ref (evidence) : NULL;
  return status;
}

/* ---- OCSP ---- */

GBytes *
imzala_cert_status_build_ocsp_request (X509     *cert,
                                       X509     *issuer,
                                       GBytes  **nonce,
                                       GError  **error)
{
  OCSP_REQUEST *request = OCSP_REQUEST_new ();
  OCSP_CERTID *id = OCSP_cert_to_id (EVP_sha1 (), cert, issuer);
  unsigned char *der = NULL;
  int length;
  GBytes *bytes = NULL;

  g_return_val_if_fail (cert != NULL && issuer != NULL, NULL);

  if (request == NULL || id == NULL || OCSP_request_add0_id (request, id) == NULL)
    {
      OCSP_CERTID_free (id);
      goto out;
    }
  if (nonce != NULL)
    {
      unsigned char value[16];
      ASN1_OCTET_STRING *octets = NULL;
      unsigned char *octets_der = NULL;
      int octets_length;

      if (RAND_bytes (value, sizeof value) != 1
          || OCSP_request_add1_nonce (request, value, sizeof value) != 1)
        goto out;
      /* OCSP_request_add1_nonce() wraps the value in an OCTET STRING; the
       * response echoes the extension value, which is that wrapping. */
      octets = ASN1_OCTET_STRING_new ();
      if (octets == NULL || !ASN1_OCTET_STRING_set (octets, value, sizeof value))
        {
          ASN1_OCTET_STRING_free (octets);
          goto out;
        }
      octets_length = i2d_ASN1_OCTET_STRING (octets, &octets_der);
      ASN1_OCTET_STRING_free (octets);
      if (octets_length <= 0)
        goto out;
      *nonce = g_bytes_new (octets_der, octets_length);
      OPENSSL_free (octets_der);
    }
  length = i2d_OCSP_REQUEST (request, &der);
  if (length > 0)
    bytes = g_bytes_new (der, length);
  OPENSSL_free (der);

out:
  OCSP_REQUEST_free (request);
  if (bytes == NULL)
    {
      log_openssl_errors ("Building the OCSP request");
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           _("The certificate status request could not be made."));
    }
  return bytes;
}

static gboolean
has_ocsp_signing_purpose (X509 *x509)
{
  return (X509_get_extension_flags (x509) & EXFLAG_XKUSAGE) != 0
         && (X509_get_extended_key_usage (x509) & XKU_OCSP_SIGN) != 0;
}

static gboolean
valid_at (X509 *x509, time_t when)
{
  return X509_cmp_time (X509_get0_notBefore (x509), &when) <= 0
         && X509_cmp_time (X509_get0_notAfter (x509), &when) >= 0;
}

/* The response's signer: the issuer itself, or a responder certificate
 * (carried in the response) that the issuer signed for id-kp-OCSPSigning
 * and that was valid when the response was produced (RFC 6960 §4.2.2.2). */
static X509 *
find_ocsp_signer (OCSP_BASICRESP *basic, X509 *issuer, time_t produced_at)
{
  STACK_OF (X509) *candidates = sk_X509_new_null ();
  const STACK_OF (X509) *carried = OCSP_resp_get0_certs (basic);
  X509 *signer = NULL;
  X509 *result = NULL;

  if (candidates == NULL)
    return NULL;
  sk_X509_push (candidates, issuer);
  for (int i = 0; carried != NULL && i < sk_X509_num (carried); i++)
    sk_X509_push (candidates, sk_X509_value (carried, i));

  if (OCSP_resp_get0_signer (basic, &signer, candidates) != 1 || signer == NULL)
    goto out;

  if (X509_cmp (signer, issuer) == 0)
    result = signer;
  else if (X509_check_issued (issuer, signer) == X509_V_OK
           && X509_verify (signer, X509_get0_pubkey (issuer)) == 1
           && has_ocsp_signing_purpose (signer)
           && valid_at (signer, produced_at))
    result = signer;
  else
    g_debug ("The OCSP response is signed by a certificate the issuer did not delegate");

out:
  sk_X509_free (candidates);
  return result;
}

/* Only the signature with @signer's key: who @signer is was settled by
 * find_ocsp_signer(), so OpenSSL's own chain and trust checks are off. */
static gboolean
verify_ocsp_signature (OCSP_BASICRESP *basic, X509 *signer)
{
  STACK_OF (X509) *certs = sk_X509_new_null ();
  X509_STORE *store = X509_STORE_new ();
  gboolean ok = FALSE;

  if (certs != NULL && store != NULL && sk_X509_push (certs, signer) > 0)
    ok = OCSP_basic_verify (basic, certs, store,
                            OCSP_NOINTERN | OCSP_NOVERIFY | OCSP_NOCHECKS | OCSP_NOEXPLICIT) == 1;
  sk_X509_free (certs);
  X509_STORE_free (store);
  return ok;
}

ImzalaCertStatus *
imzala_cert_status_check_ocsp (GBytes    *response_bytes,
                               X509      *cert,
                               X509      *issuer,
                               GDateTime *at,
                               GBytes    *request_nonce,
                               GError   **error)
{
  gsize size = 0;
  const unsigned char *data;
  const unsigned char *p;
  OCSP_RESPONSE *response = NULL;
  OCSP_BASICRESP *basic = NULL;
  OCSP_CERTID *id = NULL;
  ImzalaCertStatus *status = NULL;
  X509 *signer;
  int cert_status = -1;
  int reason = -1;
  ASN1_GENERALIZEDTIME *revoked_at = NULL;
  ASN1_GENERALIZEDTIME *this_update = NULL;
  ASN1_GENERALIZEDTIME *next_update = NULL;
  const ASN1_GENERALIZEDTIME *produced_at;
  g_autoptr(GDateTime) produced = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (response_bytes != NULL && cert != NULL && issuer != NULL, NULL);

  ERR_clear_error ();
  data = g_bytes_get_data (response_bytes, &size);
  p = data;
  if (data == NULL || size == 0 || size > G_MAXLONG)
    {
      unusable (error, "empty OCSP response");
      return NULL;
    }
  response = d2i_OCSP_RESPONSE (NULL, &p, (long) size);
  if (response == NULL || p != data + size)
    {
      unusable (error, "cannot parse the OCSP response");
      goto out;
    }
  if (OCSP_response_status (response) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    {
      g_debug ("OCSP response status %s",
               OCSP_response_status_str (OCSP_response_status (response)));
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN,
                           _("The certificate status service could not answer."));
      goto out;
    }
  basic = OCSP_response_get1_basic (response);
  if (basic == NULL)
    {
      unusable (error, "no basic response");
      goto out;
    }

  produced_at = OCSP_resp_get0_produced_at (basic);
  produced = date_time_from_asn1 (produced_at);
  if (produced == NULL)
    {
      unusable (error, "producedAt cannot be read");
      goto out;
    }

  signer = find_ocsp_signer (basic, issuer, (time_t) g_date_time_to_unix (produced));
  if (signer == NULL || !verify_ocsp_signature (basic, signer))
    {
      unusable (error, "the OCSP response's signature or signer is not acceptable");
      goto out;
    }

  if (request_nonce != NULL)
    {
      int index = OCSP_BASICRESP_get_ext_by_NID (basic, NID_id_pkix_OCSP_Nonce, -1);

      /* A responder may leave the nonce out (RFC 5019 responders do); one
       * it echoes must be ours. */
      if (index >= 0)
        {
          X509_EXTENSION *extension = OCSP_BASICRESP_get_ext (basic, index);
          ASN1_OCTET_STRING *value = X509_EXTENSION_get_data (extension);
          gsize nonce_size;
          const void *nonce = g_bytes_get_data (request_nonce, &nonce_size);

          if ((gsize) ASN1_STRING_length (value) != nonce_size
              || memcmp (ASN1_STRING_get0_data (value), nonce, nonce_size) != 0)
            {
              unusable (error, "the OCSP nonce does not match");
              goto out;
            }
        }
    }

  /* The CertID is compared under SHA-1 and SHA-256 (responders answer in
   * the hash they were asked in; embedded responses may use either). */
  id = OCSP_cert_to_id (EVP_sha1 (), cert, issuer);
  if (id == NULL
      || OCSP_resp_find_status (basic, id, &cert_status, &reason, &revoked_at,
                                &this_update, &next_update) != 1)
    {
      OCSP_CERTID_free (id);
      id = OCSP_cert_to_id (EVP_sha256 (), cert, issuer);
      if (id == NULL
          || OCSP_resp_find_status (basic, id, &cert_status, &reason, &revoked_at,
                                    &this_update, &next_update) != 1)
        {
          unusable (error, "the OCSP response is not about this certificate");
          goto out;
        }
    }

  status = status_new (IMZALA_CERT_STATUS_SOURCE_OCSP, response_bytes);
  status->produced_at = g_steal_pointer (&produced);
  status->this_update = date_time_from_asn1 (this_update);
  status->next_update = next_update != NULL ? date_time_from_asn1 (next_update) : NULL;
  status->evidence_signer = X509_dup (signer);
  if (status->this_update == NULL || (next_update != NULL && status->next_update == NULL))
    {
      unusable (error, "thisUpdate or nextUpdate cannot be read");
      goto out;
    }

  switch (cert_status)
    {
    case V_OCSP_CERTSTATUS_GOOD:
      status->status = IMZALA_CERT_STATUS_GOOD;
      break;
    case V_OCSP_CERTSTATUS_REVOKED:
      apply_revocation (status, revoked_at, reason, at);
      break;
    default:
      status->status = IMZALA_CERT_STATUS_UNKNOWN;
      status->reason = g_strdup (_("The certificate status service does not know this "
                                   "certificate."));
      break;
    }

  ok = check_freshness (status, at, error);

out:
  OCSP_CERTID_free (id);
  OCSP_BASICRESP_free (basic);
  OCSP_RESPONSE_free (response);
  ERR_clear_error ();
  if (!ok)
    g_clear_pointer (&status, imzala_cert_status_free);
  return status;
}

/* ---- CRL ---- */

static X509_CRL *
parse_crl (GBytes *bytes)
{
  gsize size = 0;
  const unsigned char *data = g_bytes_get_data (bytes, &size);
  const unsigned char *p = data;
  X509_CRL *crl = NULL;

  if (data == NULL || size == 0 || size > G_MAXINT)
    return NULL;
  if (imzala_der_is_pem (data, size))
    {
      BIO *bio = BIO_new_mem_buf (data, (int) size);

      if (bio != NULL)
        crl = PEM_read_bio_X509_CRL (bio, NULL, NULL, NULL);
      BIO_free (bio);
      return crl;
    }
  crl = d2i_X509_CRL (NULL, &p, (long) size);
  if (crl != NULL && p != data + size)
    {
      X509_CRL_free (crl);
      crl = NULL;
    }
  return crl;
}

static GBytes *
crl_to_der (X509_CRL *crl)
{
  unsigned char *der = NULL;
  int length = i2d_X509_CRL (crl, &der);
  GBytes *bytes = length > 0 ? g_bytes_new (der, length) : NULL;

  OPENSSL_free (der);
  return bytes;
}

ImzalaCertStatus *
imzala_cert_status_check_crl (GBytes    *crl_bytes,
                              X509      *cert,
                              X509      *issuer,
                              GDateTime *at,
                              GError   **error)
{
  X509_CRL *crl;
  X509_REVOKED *entry = NULL;
  ImzalaCertStatus *status = NULL;
  g_autoptr(GBytes) der = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (crl_bytes != NULL && cert != NULL && issuer != NULL, NULL);

  ERR_clear_error ();
  crl = parse_crl (crl_bytes);
  if (crl == NULL)
    {
      unusable (error, "cannot parse the CRL");
      return NULL;
    }

  /* Issued and signed by the certificate's issuer (indirect CRLs and
   * delta CRLs are not supported: they are refused, not misread). */
  if (X509_NAME_cmp (X509_CRL_get_issuer (crl), X509_get_subject_name (issuer)) != 0
      || X509_NAME_cmp (X509_get_issuer_name (cert), X509_get_subject_name (issuer)) != 0)
    {
      unusable (error, "the CRL is not from the certificate's issuer");
      goto out;
    }
  if (X509_CRL_verify (crl, X509_get0_pubkey (issuer)) != 1)
    {
      unusable (error, "the CRL's signature does not verify with the issuer's key");
      goto out;
    }
  if ((X509_get_key_usage (issuer) & KU_CRL_SIGN) == 0)
    {
      unusable (error, "the issuer may not sign CRLs");
      goto out;
    }
  if (X509_CRL_get_ext_by_NID (crl, NID_delta_crl, -1) >= 0)
    {
      unusable (error, "delta CRL");
      goto out;
    }

  der = crl_to_der (crl);
  status = status_new (IMZALA_CERT_STATUS_SOURCE_CRL, der);
  status->this_update = date_time_from_asn1 (X509_CRL_get0_lastUpdate (crl));
  status->next_update = X509_CRL_get0_nextUpdate (crl) != NULL
    ? date_time_from_asn1 (X509_CRL_get0_nextUpdate (crl)) : NULL;
  status->evidence_signer = X509_dup (issuer);
  if (status->this_update == NULL
      || (X509_CRL_get0_nextUpdate (crl) != NULL && status->next_update == NULL))
    {
      unusable (error, "thisUpdate or nextUpdate cannot be read");
      goto out;
    }

  if (X509_CRL_get0_by_cert (crl, &entry, cert) == 1 && entry != NULL)
    {
      ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i (entry, NID_crl_reason, NULL, NULL);
      int reason_code = reason != NULL ? (int) ASN1_ENUMERATED_get (reason) : -1;

      ASN1_ENUMERATED_free (reason);
      /* removeFromCRL (8) only belongs in delta CRLs, which are refused. */
      apply_revocation (status, X509_REVOKED_get0_revocationDate (entry), reason_code, at);
    }
  else
    status->status = IMZALA_CERT_STATUS_GOOD;

  ok = check_freshness (status, at, error);

out:
  X509_CRL_free (crl);
  ERR_clear_error ();
  if (!ok)
    g_clear_pointer (&status, imzala_cert_status_free);
  return status;
}

/* ---- Fetching ---- */

static gboolean
fetch_error (GError **error, const char *url, const char *detail)
{
  g_debug ("Fetching %s: %s", url, detail);
  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NETWORK,
               _("“%s” could not be reached."), url);
  return FALSE;
}

GBytes *
imzala_cert_status_fetch_url (const char   *url,
                              const char   *content_type,
                              GBytes       *body,
                              gsize         max_size,
                              GCancellable *cancellable,
                              GError      **error)
{
  return imzala_cert_status_fetch_url_full (url, content_type, body, max_size, NULL,
                                            cancellable, error);
}

GBytes *
imzala_cert_status_fetch_url_full (const char   *url,
                                   const char   *content_type,
                                   GBytes       *body,
                                   gsize         max_size,
                                   GTlsDatabase *extra_ca,
                                   GCancellable *cancellable,
                                   GError      **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(ImzalaHttpSession) session = NULL;
  g_autoptr(ImzalaHttpMessage) message = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GByteArray) buffer = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 deadline;
  const char *scheme;
  goffset declared;

  g_return_val_if_fail (url != NULL, NULL);

  uri = g_uri_parse (url, IMZALA_HTTP_URI_FLAGS, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (scheme == NULL || g_uri_get_host (uri) == NULL
      || (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    {
      g_debug ("Not fetching %s: not an http(s) URL", url);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NETWORK,
                   _("“%s” is not an address İmzala can fetch from."), url);
      return NULL;
    }

  session = imzala_http_session_new ("imzala/" PACKAGE_VERSION, IMZALA_CERT_STATUS_TIMEOUT_SECONDS,
                                     5, 0, error);
  if (session == NULL)
    return NULL;
  /* The CA given (the portal's, for a responder the portal runs) is asked
   * before the system store, which is then never parsed (issue 12). */
  if (extra_ca != NULL)
    imzala_http_session_set_extra_ca (session, extra_ca);
  message = imzala_http_message_new_from_uri (body != NULL ? "POST" : "GET", uri);
  if (body != NULL)
    imzala_http_message_set_body (message, content_type, body);
  imzala_http_message_set_extra_ca (message, extra_ca);

  /* The session's timeout bounds each read; this bounds the whole fetch, so
   * that a server that sends a byte every few seconds cannot hold a
   * verification for ever. */
  deadline = g_get_monotonic_time () + IMZALA_CERT_STATUS_TIMEOUT_SECONDS * G_USEC_PER_SEC;
  stream = imzala_http_session_send (session, message, cancellable, &local_error);
  if (stream == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      fetch_error (error, url, local_error->message);
      return NULL;
    }
  if (!IMZALA_HTTP_STATUS_IS_SUCCESSFUL (imzala_http_message_get_status (message)))
    {
      g_autofree char *detail = g_strdup_printf ("HTTP %u", imzala_http_message_get_status (message));

      fetch_error (error, url, detail);
      return NULL;
    }
  declared = imzala_http_message_get_content_length (message);
  if (declared > 0 && (guint64) declared > max_size)
    {
      g_debug ("%s declares %" G_GOFFSET_FORMAT " bytes", url, declared);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_TOO_LARGE,
                   _("The answer from “%s” is too large."), url);
      return NULL;
    }

  buffer = g_byte_array_new ();
  for (;;)
    {
      guint8 chunk[16384];
      gssize n = g_input_stream_read (stream, chunk, sizeof chunk, cancellable, &local_error);

      if (n < 0)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
          fetch_error (error, url, local_error->message);
          return NULL;
        }
      if (n == 0)
        break;
      if (buffer->len + (gsize) n > max_size)
        {
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_TOO_LARGE,
                       _("The answer from “%s” is too large."), url);
          return NULL;
        }
      g_byte_array_append (buffer, chunk, (guint) n);
      if (g_get_monotonic_time () > deadline)
        {
          fetch_error (error, url, "total time exceeded");
          return NULL;
        }
    }
  g_input_stream_close (stream, NULL, NULL);
  return g_byte_array_free_to_bytes (g_steal_pointer (&buffer));
}

static GPtrArray *
ocsp_urls (X509 *cert)
{
  STACK_OF (OPENSSL_STRING) *urls = X509_get1_ocsp (cert);
  GPtrArray *result = g_ptr_array_new_with_free_func (g_free);

  for (int i = 0; urls != NULL && i < sk_OPENSSL_STRING_num (urls); i++)
    g_ptr_array_add (result, g_strdup (sk_OPENSSL_STRING_value (urls, i)));
  X509_email_free (urls);
  return result;
}

static GPtrArray *
crl_urls (X509 *cert)
{
  STACK_OF (DIST_POINT) *points = X509_get_ext_d2i (cert, NID_crl_distribution_points, NULL, NULL);
  GPtrArray *result = g_ptr_array_new_with_free_func (g_free);

  for (int i = 0; points != NULL && i < sk_DIST_POINT_num (points); i++)
    {
      DIST_POINT *point = sk_DIST_POINT_value (points, i);
      GENERAL_NAMES *names;

      /* Only full names, and no partial-reason CRLs: a CRL for some
       * reasons only cannot say a certificate is good. */
      if (point->distpoint == NULL || point->distpoint->type != 0 || point->reasons != NULL
          || point->CRLissuer != NULL)
        continue;
      names = point->distpoint->name.fullname;
      for (int j = 0; j < sk_GENERAL_NAME_num (names); j++)
        {
          GENERAL_NAME *name = sk_GENERAL_NAME_value (names, j);

          if (name->type == GEN_URI)
            {
              const ASN1_IA5STRING *uri = name->d.uniformResourceIdentifier;

              g_ptr_array_add (result, g_strndup ((const char *) ASN1_STRING_get0_data (uri),
                                                  ASN1_STRING_length (uri)));
            }
        }
    }
  sk_DIST_POINT_pop_free (points, DIST_POINT_free);
  return result;
}

static ImzalaCertStatus *
unknown_status (const char *reason)
{
  ImzalaCertStatus *status = status_new (IMZALA_CERT_STATUS_SOURCE_NONE, NULL);

  status->reason = g_strdup (reason);
  return status;
}

ImzalaCertStatus *
imzala_cert_status_get (X509                  *cert,
                        X509                  *issuer,
                        GDateTime             *at,
                        GPtrArray             *evidence,
                        ImzalaCertStatusFlags  flags,
                        GCancellable          *cancellable)
{
  return imzala_cert_status_get_full (cert, issuer, at, evidence, flags, NULL, cancellable);
}

ImzalaCertStatus *
imzala_cert_status_get_full (X509                  *cert,
                             X509                  *issuer,
                             GDateTime             *at,
                             GPtrArray             *evidence,
                             ImzalaCertStatusFlags  flags,
                             GTlsDatabase          *extra_ca,
                             GCancellable          *cancellable)
{
  g_autoptr(GError) last_error = NULL;
  g_autoptr(GPtrArray) urls = NULL;
  ImzalaCertStatus *status;

  g_return_val_if_fail (cert != NULL && issuer != NULL, NULL);

  /* Embedded evidence first: it needs no network and is what a long-term
   * signature carries. Each piece is tried as OCSP, then as a CRL. */
  for (guint i = 0; evidence != NULL && i < evidence->len; i++)
    {
      GBytes *bytes = g_ptr_array_index (evidence, i);
      g_autoptr(GError) error = NULL;

      status = imzala_cert_status_check_ocsp (bytes, cert, issuer, at, NULL, &error);
      if (status == NULL)
        {
          g_clear_error (&error);
          status = imzala_cert_status_check_crl (bytes, cert, issuer, at, &error);
        }
      if (status != NULL && status->status != IMZALA_CERT_STATUS_UNKNOWN)
        return status;
      g_clear_pointer (&status, imzala_cert_status_free);
    }

  if ((flags & IMZALA_CERT_STATUS_OFFLINE) != 0)
    return unknown_status (_("The certificate status is not in the signature, and İmzala "
                             "may not look it up (offline)."));

  if ((flags & IMZALA_CERT_STATUS_NO_OCSP) == 0)
    {
      urls = ocsp_urls (cert);
      for (guint i = 0; i < urls->len; i++)
        {
          const char *url = g_ptr_array_index (urls, i);
          g_autoptr(GBytes) nonce = NULL;
          g_autoptr(GBytes) request = NULL;
          g_autoptr(GBytes) response = NULL;

          g_clear_error (&last_error);
          request = imzala_cert_status_build_ocsp_request (cert, issuer, &nonce, &last_error);
          if (request != NULL)
            response = imzala_cert_status_fetch_url_full (url, "application/ocsp-request", request,
                                                          IMZALA_CERT_STATUS_MAX_OCSP_SIZE,
                                                          extra_ca, cancellable, &last_error);
          if (response == NULL)
            continue;
          status = imzala_cert_status_check_ocsp (response, cert, issuer, at, nonce, &last_error);
          if (status != NULL && status->status != IMZALA_CERT_STATUS_UNKNOWN)
            {
              status->url = g_strdup (url);
              return status;
            }
          g_clear_pointer (&status, imzala_cert_status_free);
        }
      g_clear_pointer (&urls, g_ptr_array_unref);
    }

  if ((flags & IMZALA_CERT_STATUS_NO_CRL) == 0)
    {
      urls = crl_urls (cert);
      for (guint i = 0; i < urls->len; i++)
        {
          const char *url = g_ptr_array_index (urls, i);
          g_autoptr(GBytes) crl = NULL;

          g_clear_error (&last_error);
          crl = imzala_cert_status_fetch_url_full (url, NULL, NULL, IMZALA_CERT_STATUS_MAX_CRL_SIZE,
                                                   extra_ca, cancellable, &last_error);
          if (crl == NULL)
            continue;
          status = imzala_cert_status_check_crl (crl, cert, issuer, at, &last_error);
          if (status != NULL)
            {
              status->url = g_strdup (url);
              return status;
            }
        }
    }

  if (last_error != NULL)
    return unknown_status (last_error->message);
  return unknown_status (_("The certificate names no status service, and the signature "
                           "carries no status information for it."));
}

typedef struct
{
  X509                  *cert;
  X509                  *issuer;
  GDateTime             *at;
  GPtrArray             *evidence;
  ImzalaCertStatusFlags  flags;
} GetData;

static void
get_data_free (GetData *data)
{
  X509_free (data->cert);
  X509_free (data->issuer);
  g_clear_pointer (&data->at, g_date_time_unref);
  g_clear_pointer (&data->evidence, g_ptr_array_unref);
  g_free (data);
}

static void
get_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  GetData *data = task_data;
  ImzalaCertStatus *status = imzala_cert_status_get (data->cert, data->issuer, data->at,
                                                     data->evidence, data->flags, cancellable);

  if (g_cancellable_set_error_if_cancelled (cancellable, NULL))
    {
      imzala_cert_status_free (status);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                               _("The operation was cancelled."));
      return;
    }
  g_task_return_pointer (task, status, (GDestroyNotify) imzala_cert_status_free);
}

void
imzala_cert_status_get_async (X509                  *cert,
                              X509                  *issuer,
                              GDateTime             *at,
                              GPtrArray             *evidence,
                              ImzalaCertStatusFlags  flags,
                              GCancellable          *cancellable,
                              GAsyncReadyCallback    callback,
                              gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  GetData *data;

  g_return_if_fail (cert != NULL && issuer != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_cert_status_get_async);
  data = g_new0 (GetData, 1);
  data->cert = X509_dup (cert);
  data->issuer = X509_dup (issuer);
  data->at = at != NULL ? g_date_time_ref (at) : NULL;
  data->evidence = evidence != NULL ? g_ptr_array_ref (evidence) : NULL;
  data->flags = flags;
  g_task_set_task_data (task, data, (GDestroyNotify) get_data_free);
  imzala_task_run_in_openssl_thread (task, get_thread);
}

ImzalaCertStatus *
imzala_cert_status_get_finish (GAsyncResult *result,
                               GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
