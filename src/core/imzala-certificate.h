/* imzala-certificate.h: one X.509 certificate as İmzala shows and chooses it.
 *
 * Pure OpenSSL underneath; no PKCS#11 here. A certificate read from a token
 * also knows its CKA_ID and CKA_LABEL and whether the token has its private
 * key (set by imzala-token.c), but not the token: the token owns its
 * certificates (imzala_token_has_certificate(),
 * imzala_token_dup_certificate_uri(), imzala_module_set_find_token()).
 */
#pragma once

#include <glib-object.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

typedef enum
{
  IMZALA_KEY_TYPE_UNKNOWN,
  IMZALA_KEY_TYPE_RSA,
  IMZALA_KEY_TYPE_EC_P256,
  IMZALA_KEY_TYPE_EC_P384,
  IMZALA_KEY_TYPE_EC_OTHER,
} ImzalaKeyType;

/* X.509 key usage bits we care about. */
typedef enum /*< flags >*/
{
  IMZALA_KEY_USAGE_NONE              = 0,
  IMZALA_KEY_USAGE_DIGITAL_SIGNATURE = 1 << 0,
  IMZALA_KEY_USAGE_NON_REPUDIATION   = 1 << 1,
  IMZALA_KEY_USAGE_KEY_ENCIPHERMENT  = 1 << 2,
  IMZALA_KEY_USAGE_DATA_ENCIPHERMENT = 1 << 3,
  IMZALA_KEY_USAGE_KEY_AGREEMENT     = 1 << 4,
  IMZALA_KEY_USAGE_KEY_CERT_SIGN     = 1 << 5,
  IMZALA_KEY_USAGE_CRL_SIGN          = 1 << 6,
} ImzalaKeyUsage;

/* Why a certificate is not the recommended one; several can apply. */
typedef enum /*< flags >*/
{
  IMZALA_CERTIFICATE_PROBLEM_NONE              = 0,
  IMZALA_CERTIFICATE_PROBLEM_NOT_QUALIFIED     = 1 << 0,
  IMZALA_CERTIFICATE_PROBLEM_NO_NON_REPUDIATION = 1 << 1,
  IMZALA_CERTIFICATE_PROBLEM_EXPIRED           = 1 << 2,
  IMZALA_CERTIFICATE_PROBLEM_NOT_YET_VALID     = 1 << 3,
  IMZALA_CERTIFICATE_PROBLEM_NO_PRIVATE_KEY    = 1 << 4,
  IMZALA_CERTIFICATE_PROBLEM_CA                = 1 << 5,
} ImzalaCertificateProblem;

/* How a token paired a certificate with its private key, in the order they
 * are tried. HIDDEN: the token shows no key object before login, so the key
 * is assumed for an end-entity certificate and paired when signing. */
typedef enum
{
  IMZALA_KEY_PAIRING_NONE,
  IMZALA_KEY_PAIRING_BY_ID,
  IMZALA_KEY_PAIRING_BY_PUBLIC_KEY,
  IMZALA_KEY_PAIRING_BY_LABEL,
  IMZALA_KEY_PAIRING_HIDDEN,
} ImzalaKeyPairing;

#define IMZALA_TYPE_CERTIFICATE (imzala_certificate_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaCertificate, imzala_certificate, IMZALA, CERTIFICATE, GObject)

/* Accepts DER. Fails with IMZALA_ERROR_CERTIFICATE_INVALID. */
ImzalaCertificate *imzala_certificate_new_from_der (GBytes *der, GError **error);
/* Takes its own reference on @x509. */
ImzalaCertificate *imzala_certificate_new_from_x509 (X509 *x509);
/* TRUE only when @der plainly says it is no CA: a basicConstraints
 * extension without cA (so X509_check_ca() would say 0). Walks the DER
 * without parsing the certificate (d2i_X509 costs ~1.5 M instructions in
 * OpenSSL 3.0, most of it decoding the public key); FALSE for anything it
 * cannot tell, so a caller that skips these loses no CA certificate. */
gboolean           imzala_certificate_der_is_end_entity (GBytes *der);

GBytes        *imzala_certificate_get_der          (ImzalaCertificate *self);
X509          *imzala_certificate_get_x509         (ImzalaCertificate *self); /* borrowed */
/* Lower-case hex SHA-256 of the DER, no separators (64 characters). */
const char    *imzala_certificate_get_fingerprint  (ImzalaCertificate *self);
/* Subject commonName, UTF-8; falls back to the one-line subject. */
const char    *imzala_certificate_get_holder_name  (ImzalaCertificate *self);
/* Subject serialNumber (2.5.4.5) if it is a valid T.C. kimlik no (an optional
 * "TCKN" prefix is stripped), else NULL. */
const char    *imzala_certificate_get_tckn         (ImzalaCertificate *self);
/* TRUE when the certificate's T.C. kimlik no fits @hint, the portal's masked
 * number ("123******50": 11 characters, a digit where it is shown, anything
 * else where it is hidden). A hint that shows no digit, a malformed hint or
 * a certificate without a T.C. kimlik no never fits. */
gboolean       imzala_certificate_matches_tckn_hint (ImzalaCertificate *self,
                                                     const char        *hint);
/* RFC 2253-like one-line subject and issuer, UTF-8. */
const char    *imzala_certificate_get_subject      (ImzalaCertificate *self);
const char    *imzala_certificate_get_issuer       (ImzalaCertificate *self);
/* Issuer commonName (or the one-line issuer). */
const char    *imzala_certificate_get_issuer_name  (ImzalaCertificate *self);
/* Upper-case hex serial number. */
const char    *imzala_certificate_get_serial       (ImzalaCertificate *self);
GDateTime     *imzala_certificate_get_not_before   (ImzalaCertificate *self);
GDateTime     *imzala_certificate_get_not_after    (ImzalaCertificate *self);
ImzalaKeyType  imzala_certificate_get_key_type     (ImzalaCertificate *self);
guint          imzala_certificate_get_key_bits     (ImzalaCertificate *self);
/* "RSA 2048", "EC P-384", ... (not translated: technical names). */
const char    *imzala_certificate_get_key_description (ImzalaCertificate *self);
ImzalaKeyUsage imzala_certificate_get_key_usage    (ImzalaCertificate *self);
/* QCStatements with QcCompliance (0.4.0.1862.1.1). */
gboolean       imzala_certificate_is_qualified     (ImzalaCertificate *self);
gboolean       imzala_certificate_is_ca            (ImzalaCertificate *self);
gboolean       imzala_certificate_is_valid_at      (ImzalaCertificate *self, GDateTime *when);

/* Problems as of @when (NULL: now). NONE means recommended. */
ImzalaCertificateProblem imzala_certificate_get_problems (ImzalaCertificate *self, GDateTime *when);
/* Qualified, nonRepudiation, valid now, has a private key, not a CA. */
gboolean       imzala_certificate_is_recommended   (ImzalaCertificate *self);
/* One translated sentence per problem, for the user ("Expired on 1 May 2024."). */
GStrv          imzala_certificate_describe_problems (ImzalaCertificate *self, GDateTime *when);

/* The object on a token; NULL / FALSE for a certificate not read from one. */
GBytes        *imzala_certificate_get_id           (ImzalaCertificate *self);  /* CKA_ID */
const char    *imzala_certificate_get_label        (ImzalaCertificate *self);  /* CKA_LABEL */
gboolean       imzala_certificate_has_private_key  (ImzalaCertificate *self);

/* Used by imzala-token.c (and tests). */
void           imzala_certificate_set_object_info  (ImzalaCertificate *self,
                                                    GBytes            *id,
                                                    const char        *label,
                                                    gboolean           has_private_key);
/* How the key was paired (NONE: no key, and has_private_key() is FALSE). */
ImzalaKeyPairing imzala_certificate_get_key_pairing (ImzalaCertificate *self);
void           imzala_certificate_set_key_pairing  (ImzalaCertificate *self,
                                                    ImzalaKeyPairing   pairing);

G_END_DECLS
