#define G_LOG_DOMAIN "imzala-certificate"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "imzala-certificate.h"
#include "imzala-error.h"
#include "imzala-tckn.h"

struct _ImzalaCertificate
{
  GObject parent_instance;

  X509 *x509;
  GBytes *der;

  /* Everything below is read once from the certificate at construction, so
   * that the getters can hand out borrowed strings and are cheap to call from
   * list models. */
  char *fingerprint;
  char *holder_name;
  char *tckn;
  char *subject;
  char *issuer;
  char *issuer_name;
  char *serial;
  GDateTime *not_before;
  GDateTime *not_after;
  ImzalaKeyType key_type;
  guint key_bits;
  char *key_description;
  ImzalaKeyUsage key_usage;
  gboolean qualified;
  gboolean is_ca;

  /* Where a token keeps it (set by the token that read it). The token owns
   * its certificates; a certificate knows nothing of tokens. */
  GBytes *id;
  char *label;
  gboolean has_private_key;
  ImzalaKeyPairing key_pairing;
};

G_DEFINE_FINAL_TYPE (ImzalaCertificate, imzala_certificate, G_TYPE_OBJECT)

/* DER of the OID 0.4.0.1862.1.1 (id-etsi-qcs-QcCompliance), contents only. */
static const guint8 qc_compliance_oid[] = { 0x04, 0x00, 0x8e, 0x46, 0x01, 0x01 };

static void
imzala_certificate_finalize (GObject *object)
{
  ImzalaCertificate *self = IMZALA_CERTIFICATE (object);

  X509_free (self->x509);
  g_clear_pointer (&self->der, g_bytes_unref);
  g_free (self->fingerprint);
  g_free (self->holder_name);
  g_free (self->tckn);
  g_free (self->subject);
  g_free (self->issuer);
  g_free (self->issuer_name);
  g_free (self->serial);
  g_clear_pointer (&self->not_before, g_date_time_unref);
  g_clear_pointer (&self->not_after, g_date_time_unref);
  g_free (self->key_description);
  g_clear_pointer (&self->id, g_bytes_unref);
  g_free (self->label);

  G_OBJECT_CLASS (imzala_certificate_parent_class)->finalize (object);
}

static void
imzala_certificate_class_init (ImzalaCertificateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imzala_certificate_finalize;
}

static void
imzala_certificate_init (ImzalaCertificate *self)
{
}

/* ---- Reading the certificate ---- */

/* Certificates come from cards and files we do not control: whatever OpenSSL
 * converts is checked again so that only valid UTF-8 reaches GTK. */
static char *
utf8_from_asn1_string (const ASN1_STRING *string)
{
  unsigned char *utf8 = NULL;
  int length;
  char *result;

  if (string == NULL)
    return NULL;
  length = ASN1_STRING_to_UTF8 (&utf8, string);
  if (length < 0)
    {
      ERR_clear_error ();
      return NULL;
    }
  result = g_utf8_make_valid ((const char *) utf8, length);
  OPENSSL_free (utf8);
  return result;
}

static char *
name_entry_utf8 (const X509_NAME *name, int nid)
{
  int index = X509_NAME_get_index_by_NID (name, nid, -1);

  if (index < 0)
    return NULL;
  return utf8_from_asn1_string (X509_NAME_ENTRY_get_data (X509_NAME_get_entry (name, index)));
}

static char *
name_one_line (const X509_NAME *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long length;
  char *result = NULL;

  if (bio == NULL)
    return g_strdup ("");
  /* RFC 2253 escapes non-ASCII bytes as \XX unless ESC_MSB is removed; we
   * want the UTF-8 characters themselves ("AYŞE"). */
  if (X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
    {
      length = BIO_get_mem_data (bio, &data);
      if (length >= 0 && data != NULL)
        result = g_utf8_make_valid (data, length);
    }
  BIO_free (bio);
  ERR_clear_error ();
  return result != NULL ? result : g_strdup ("");
}

static GDateTime *
date_time_from_asn1 (const ASN1_TIME *time)
{
  struct tm tm = { 0 };

  if (time == NULL || !ASN1_TIME_to_tm (time, &tm))
    {
      ERR_clear_error ();
      return NULL;
    }
  return g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static char *
tckn_from_subject (const X509_NAME *subject)
{
  g_autofree char *value = name_entry_utf8 (subject, NID_serialNumber);
  const char *digits;

  if (value == NULL)
    return NULL;
  digits = g_strstrip (value);
  /* Some issuers write the number as "TCKN12345678950" or "TC12345678950"
   * (the ETSI semantics identifier form "IDCTR-..." is not used for NES). */
  if (g_ascii_strncasecmp (digits, "TCKN", 4) == 0)
    digits += 4;
  else if (g_ascii_strncasecmp (digits, "TC", 2) == 0)
    digits += 2;
  if (*digits == ':' || *digits == '-')
    digits++;
  if (!imzala_tckn_is_valid (digits))
    return NULL;
  return g_strdup (digits);
}

static char *
serial_hex (X509 *x509)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (x509), NULL);
  char *hex;
  char *result;

  if (bn == NULL)
    {
      ERR_clear_error ();
      return g_strdup ("");
    }
  hex = BN_bn2hex (bn);
  BN_free (bn);
  result = g_strdup (hex != NULL ? hex : "");
  OPENSSL_free (hex);
  return result;
}

static char *
fingerprint_hex (X509 *x509)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  GString *hex;

  if (!X509_digest (x509, EVP_sha256 (), md, &length))
    {
      ERR_clear_error ();
      return g_strdup ("");
    }
  hex = g_string_sized_new (length * 2);
  for (unsigned int i = 0; i < length; i++)
    g_string_append_printf (hex, "%02x", md[i]);
  return g_string_free (hex, FALSE);
}

static void
read_key (ImzalaCertificate *self)
{
  EVP_PKEY *key = X509_get0_pubkey (self->x509);

  self->key_type = IMZALA_KEY_TYPE_UNKNOWN;
  self->key_bits = 0;

  if (key == NULL)
    {
      ERR_clear_error ();
      self->key_description = g_strdup ("?");
      return;
    }

  self->key_bits = MAX (EVP_PKEY_get_bits (key), 0);

  if (EVP_PKEY_is_a (key, "RSA"))
    {
      self->key_type = IMZALA_KEY_TYPE_RSA;
      self->key_description = g_strdup_printf ("RSA %u", self->key_bits);
    }
  else if (EVP_PKEY_is_a (key, "EC"))
    {
      char group[64] = "";
      size_t group_length = 0;

      if (!EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof group, &group_length))
        {
          ERR_clear_error ();
          group[0] = '\0';
        }

      if (g_str_equal (group, "prime256v1") || g_str_equal (group, "P-256"))
        {
          self->key_type = IMZALA_KEY_TYPE_EC_P256;
          self->key_description = g_strdup ("EC P-256");
        }
      else if (g_str_equal (group, "secp384r1") || g_str_equal (group, "P-384"))
        {
          self->key_type = IMZALA_KEY_TYPE_EC_P384;
          self->key_description = g_strdup ("EC P-384");
        }
      else
        {
          self->key_type = IMZALA_KEY_TYPE_EC_OTHER;
          self->key_description = g_strdup_printf ("EC %s", group[0] ? group : "?");
        }
    }
  else
    {
      const char *name = EVP_PKEY_get0_type_name (key);

      self->key_description = g_strdup_printf ("%s %u", name != NULL ? name : "?", self->key_bits);
    }
}

static ImzalaKeyUsage
read_key_usage (X509 *x509)
{
  static const struct { guint32 x509; ImzalaKeyUsage ours; } map[] = {
    { KU_DIGITAL_SIGNATURE, IMZALA_KEY_USAGE_DIGITAL_SIGNATURE },
    { KU_NON_REPUDIATION, IMZALA_KEY_USAGE_NON_REPUDIATION },
    { KU_KEY_ENCIPHERMENT, IMZALA_KEY_USAGE_KEY_ENCIPHERMENT },
    { KU_DATA_ENCIPHERMENT, IMZALA_KEY_USAGE_DATA_ENCIPHERMENT },
    { KU_KEY_AGREEMENT, IMZALA_KEY_USAGE_KEY_AGREEMENT },
    { KU_KEY_CERT_SIGN, IMZALA_KEY_USAGE_KEY_CERT_SIGN },
    { KU_CRL_SIGN, IMZALA_KEY_USAGE_CRL_SIGN },
  };
  ImzalaKeyUsage usage = IMZALA_KEY_USAGE_NONE;
  guint32 bits;

  /* Without the extension OpenSSL says "anything goes" (all bits set). A
   * signing certificate must say nonRepudiation explicitly, so a missing
   * extension counts as no usage at all here. */
  if ((X509_get_extension_flags (x509) & EXFLAG_KUSAGE) == 0)
    return IMZALA_KEY_USAGE_NONE;

  bits = X509_get_key_usage (x509);
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    if (bits & map[i].x509)
      usage |= map[i].ours;
  return usage;
}

/* Reads one DER TLV header at *p, which has *remaining bytes left, and checks
 * that the value fits. On success *p points at the value. Indefinite lengths
 * are refused: this is DER. */
static gboolean
der_read_header (const unsigned char **p,
                 long                 *remaining,
                 int                  *tag,
                 int                  *klass,
                 long                 *length,
                 gboolean             *constructed)
{
  const unsigned char *start = *p;
  int ret;

  if (*remaining <= 0)
    return FALSE;
  ret = ASN1_get_object (p, length, tag, klass, *remaining);
  if (ret & 0x80)
    {
      ERR_clear_error ();
      return FALSE;
    }
  if (ret == (V_ASN1_CONSTRUCTED | 1))
    return FALSE;
  *remaining -= *p - start;
  if (*length < 0 || *length > *remaining)
    return FALSE;
  *constructed = (ret & V_ASN1_CONSTRUCTED) != 0;
  return TRUE;
}

/* QCStatements ::= SEQUENCE OF QCStatement
 * QCStatement ::= SEQUENCE { statementId OBJECT IDENTIFIER,
 *                            statementInfo ANY DEFINED BY statementId OPTIONAL }
 *
 * OpenSSL 3.0 has no parser for this extension, so it is walked by hand. Every
 * length is checked against what is left, so a malformed extension only means
 * "not qualified". */
static gboolean
qc_statements_have_compliance (const unsigned char *der, long der_length)
{
  const unsigned char *p = der;
  long remaining = der_length;
  int tag, klass;
  long length;
  gboolean constructed;

  if (!der_read_header (&p, &remaining, &tag, &klass, &length, &constructed)
      || tag != V_ASN1_SEQUENCE || klass != V_ASN1_UNIVERSAL || !constructed)
    return FALSE;

  remaining = length;
  while (remaining > 0)
    {
      const unsigned char *statement;
      long statement_remaining;
      long statement_length;

      if (!der_read_header (&p, &remaining, &tag, &klass, &statement_length, &constructed)
          || tag != V_ASN1_SEQUENCE || klass != V_ASN1_UNIVERSAL || !constructed)
        return FALSE;

      statement = p;
      statement_remaining = statement_length;
      if (der_read_header (&statement, &statement_remaining, &tag, &klass, &length, &constructed)
          && tag == V_ASN1_OBJECT && klass == V_ASN1_UNIVERSAL && !constructed
          && length == (long) sizeof qc_compliance_oid
          && memcmp (statement, qc_compliance_oid, sizeof qc_compliance_oid) == 0)
        return TRUE;

      p += statement_length;
      remaining -= statement_length;
    }
  return FALSE;
}

static gboolean
read_qualified (X509 *x509)
{
  int index = X509_get_ext_by_NID (x509, NID_qcStatements, -1);
  const ASN1_OCTET_STRING *value;
  X509_EXTENSION *extension;

  if (index < 0)
    return FALSE;
  extension = X509_get_ext (x509, index);
  value = extension != NULL ? X509_EXTENSION_get_data (extension) : NULL;
  if (value == NULL)
    return FALSE;
  return qc_statements_have_compliance (ASN1_STRING_get0_data (value), ASN1_STRING_length (value));
}

/* g_set_str() is GLib 2.76; this project targets 2.74. */
static void
replace_string (char **target, const char *value)
{
  char *old = *target;

  *target = g_strdup (value);
  g_free (old);
}

/* Fills in everything the getters return. Takes ownership of @x509. */
static ImzalaCertificate *
certificate_new_take (X509 *x509, GBytes *der)
{
  ImzalaCertificate *self = g_object_new (IMZALA_TYPE_CERTIFICATE, NULL);
  const X509_NAME *subject = X509_get_subject_name (x509);
  const X509_NAME *issuer = X509_get_issuer_name (x509);

  self->x509 = x509;
  self->der = g_bytes_ref (der);

  /* X509_check_purpose caches the extensions (key usage, basic
   * constraints); it also tells us whether they could be parsed. */
  X509_check_purpose (x509, -1, 0);

  self->fingerprint = fingerprint_hex (x509);
  self->subject = name_one_line (subject);
  self->issuer = name_one_line (issuer);
  self->holder_name = name_entry_utf8 (subject, NID_commonName);
  if (self->holder_name == NULL || self->holder_name[0] == '\0')
    replace_string (&self->holder_name, self->subject);
  self->issuer_name = name_entry_utf8 (issuer, NID_commonName);
  if (self->issuer_name == NULL || self->issuer_name[0] == '\0')
    replace_string (&self->issuer_name, self->issuer);
  self->tckn = tckn_from_subject (subject);
  self->serial = serial_hex (x509);
  self->not_before = date_time_from_asn1 (X509_get0_notBefore (x509));
  self->not_after = date_time_from_asn1 (X509_get0_notAfter (x509));
  read_key (self);
  self->key_usage = read_key_usage (x509);
  self->qualified = read_qualified (x509);
  self->is_ca = X509_check_ca (x509) != 0;

  ERR_clear_error ();
  return self;
}

static GBytes *
der_of_x509 (X509 *x509)
{
  unsigned char *der = NULL;
  int length = i2d_X509 (x509, &der);
  GBytes *bytes;

  if (length <= 0)
    {
      ERR_clear_error ();
      return g_bytes_new (NULL, 0);
    }
  bytes = g_bytes_new (der, length);
  OPENSSL_free (der);
  return bytes;
}

ImzalaCertificate *
imzala_certificate_new_from_der (GBytes *der, GError **error)
{
  const unsigned char *data;
  const unsigned char *p;
  gsize size;
  X509 *x509;
  GBytes *exact;
  ImzalaCertificate *self;

  g_return_val_if_fail (der != NULL, NULL);

  data = g_bytes_get_data (der, &size);
  p = data;
  x509 = (size > 0 && size <= G_MAXINT) ? d2i_X509 (NULL, &p, (long) size) : NULL;
  /* Trailing bytes after the certificate mean the input is not what the
   * caller thinks it is; and a certificate whose validity cannot be read or
   * which has no usable public key is of no use to us either. */
  if (x509 == NULL || p != data + size
      || X509_get0_pubkey (x509) == NULL
      || !ASN1_TIME_to_tm (X509_get0_notBefore (x509), &(struct tm) { 0 })
      || !ASN1_TIME_to_tm (X509_get0_notAfter (x509), &(struct tm) { 0 }))
    {
      g_debug ("Cannot parse a certificate of %" G_GSIZE_FORMAT " bytes: %s",
               size, ERR_reason_error_string (ERR_peek_last_error ()));
      ERR_clear_error ();
      X509_free (x509);
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                           _("The certificate cannot be read."));
      return NULL;
    }

  exact = g_bytes_new (data, size);
  self = certificate_new_take (x509, exact);
  g_bytes_unref (exact);
  return self;
}

ImzalaCertificate *
imzala_certificate_new_from_x509 (X509 *x509)
{
  g_autoptr(GBytes) der = NULL;

  g_return_val_if_fail (x509 != NULL, NULL);

  X509_up_ref (x509);
  der = der_of_x509 (x509);
  return certificate_new_take (x509, der);
}

/* ---- A look at the DER without parsing it ---- */

/* Reads one definite-length TLV at *p (bounded by @end): its tag class and
 * number, and the bounds of its contents. */
static gboolean
der_next (const unsigned char **p,
          const unsigned char  *end,
          int                  *tag,
          int                  *klass,
          const unsigned char **contents,
          const unsigned char **contents_end)
{
  const unsigned char *q = *p;
  long length;
  int ret;

  if (q >= end)
    return FALSE;
  ret = ASN1_get_object (&q, &length, tag, klass, end - q);
  /* 0x80 is an error, 0x01 an indefinite length (not DER). */
  if ((ret & 0x81) != 0 || length < 0 || length > end - q)
    return FALSE;
  *contents = q;
  *contents_end = q + length;
  *p = q + length;
  return TRUE;
}

/* Whether the basicConstraints value (the extnValue's contents) has no
 * cA TRUE. */
static gboolean
basic_constraints_not_ca (const unsigned char *p,
                          const unsigned char *end)
{
  const unsigned char *seq, *seq_end, *value, *value_end;
  int tag, klass;

  if (!der_next (&p, end, &tag, &klass, &seq, &seq_end)
      || klass != V_ASN1_UNIVERSAL || tag != V_ASN1_SEQUENCE || p != end)
    return FALSE;
  if (seq == seq_end)
    return TRUE; /* cA DEFAULT FALSE */
  if (!der_next (&seq, seq_end, &tag, &klass, &value, &value_end))
    return FALSE;
  if (klass == V_ASN1_UNIVERSAL && tag == V_ASN1_BOOLEAN)
    return value_end - value == 1 && value[0] == 0x00;
  /* No cA: only a pathLenConstraint follows. */
  return klass == V_ASN1_UNIVERSAL && tag == V_ASN1_INTEGER;
}

gboolean
imzala_certificate_der_is_end_entity (GBytes *der)
{
  const unsigned char *p, *end, *cert, *cert_end, *tbs, *tbs_end, *field, *field_end;
  gboolean seen = FALSE;
  gsize size;
  int tag, klass;

  g_return_val_if_fail (der != NULL, FALSE);

  p = g_bytes_get_data (der, &size);
  if (p == NULL || size == 0 || size > G_MAXLONG)
    return FALSE;
  end = p + size;
  /* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... } */
  if (!der_next (&p, end, &tag, &klass, &cert, &cert_end)
      || klass != V_ASN1_UNIVERSAL || tag != V_ASN1_SEQUENCE || p != end)
    return FALSE;
  if (!der_next (&cert, cert_end, &tag, &klass, &tbs, &tbs_end)
      || klass != V_ASN1_UNIVERSAL || tag != V_ASN1_SEQUENCE)
    return FALSE;

  /* The fields of the TBSCertificate up to the extensions, [3] EXPLICIT. */
  while (tbs < tbs_end)
    {
      const unsigned char *extensions, *extensions_end;

      if (!der_next (&tbs, tbs_end, &tag, &klass, &field, &field_end))
        return FALSE;
      if (klass != V_ASN1_CONTEXT_SPECIFIC || tag != 3)
        continue;
      if (!der_next (&field, field_end, &tag, &klass, &extensions, &extensions_end)
          || klass != V_ASN1_UNIVERSAL || tag != V_ASN1_SEQUENCE)
        return FALSE;
      while (extensions < extensions_end)
        {
          static const unsigned char basic_constraints_oid[] = { 0x55, 0x1d, 0x13 };
          const unsigned char *extension, *extension_end, *value, *value_end;

          if (!der_next (&extensions, extensions_end, &tag, &klass, &extension, &extension_end)
              || klass != V_ASN1_UNIVERSAL || tag != V_ASN1_SEQUENCE
              || !der_next (&extension, extension_end, &tag, &klass, &value, &value_end)
              || klass != V_ASN1_UNIVERSAL || tag != V_ASN1_OBJECT)
            return FALSE;
          if (value_end - value != sizeof basic_constraints_oid
              || memcmp (value, basic_constraints_oid, sizeof basic_constraints_oid) != 0)
            continue;
          /* critical BOOLEAN DEFAULT FALSE, then extnValue OCTET STRING. */
          if (!der_next (&extension, extension_end, &tag, &klass, &value, &value_end))
            return FALSE;
          if (klass == V_ASN1_UNIVERSAL && tag == V_ASN1_BOOLEAN
              && !der_next (&extension, extension_end, &tag, &klass, &value, &value_end))
            return FALSE;
          if (klass != V_ASN1_UNIVERSAL || tag != V_ASN1_OCTET_STRING || extension != extension_end
              || !basic_constraints_not_ca (value, value_end))
            return FALSE;
          seen = TRUE;
        }
      return seen;
    }
  return FALSE;
}

/* ---- Getters ---- */

GBytes *
imzala_certificate_get_der (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->der;
}

X509 *
imzala_certificate_get_x509 (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->x509;
}

const char *
imzala_certificate_get_fingerprint (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->fingerprint;
}

const char *
imzala_certificate_get_holder_name (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->holder_name;
}

const char *
imzala_certificate_get_tckn (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->tckn;
}

gboolean
imzala_certificate_matches_tckn_hint (ImzalaCertificate *self,
                                      const char        *hint)
{
  guint shown = 0;

  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), FALSE);

  if (self->tckn == NULL || hint == NULL || strlen (hint) != 11)
    return FALSE;
  for (guint i = 0; i < 11; i++)
    {
      if (!g_ascii_isdigit (hint[i]))
        continue;
      if (hint[i] != self->tckn[i])
        return FALSE;
      shown++;
    }
  /* A hint that shows nothing would make every card the requester's. */
  return shown > 0;
}

const char *
imzala_certificate_get_subject (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->subject;
}

const char *
imzala_certificate_get_issuer (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->issuer;
}

const char *
imzala_certificate_get_issuer_name (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->issuer_name;
}

const char *
imzala_certificate_get_serial (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->serial;
}

GDateTime *
imzala_certificate_get_not_before (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->not_before;
}

GDateTime *
imzala_certificate_get_not_after (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->not_after;
}

ImzalaKeyType
imzala_certificate_get_key_type (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), IMZALA_KEY_TYPE_UNKNOWN);
  return self->key_type;
}

guint
imzala_certificate_get_key_bits (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), 0);
  return self->key_bits;
}

const char *
imzala_certificate_get_key_description (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->key_description;
}

ImzalaKeyUsage
imzala_certificate_get_key_usage (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), IMZALA_KEY_USAGE_NONE);
  return self->key_usage;
}

gboolean
imzala_certificate_is_qualified (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), FALSE);
  return self->qualified;
}

gboolean
imzala_certificate_is_ca (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), FALSE);
  return self->is_ca;
}

gboolean
imzala_certificate_is_valid_at (ImzalaCertificate *self, GDateTime *when)
{
  g_autoptr(GDateTime) now = NULL;

  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), FALSE);

  if (self->not_before == NULL || self->not_after == NULL)
    return FALSE;
  if (when == NULL)
    when = now = g_date_time_new_now_utc ();
  return g_date_time_compare (when, self->not_before) >= 0
         && g_date_time_compare (when, self->not_after) <= 0;
}

/* ---- Problems ---- */

ImzalaCertificateProblem
imzala_certificate_get_problems (ImzalaCertificate *self, GDateTime *when)
{
  g_autoptr(GDateTime) now = NULL;
  ImzalaCertificateProblem problems = IMZALA_CERTIFICATE_PROBLEM_NONE;

  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), IMZALA_CERTIFICATE_PROBLEM_NONE);

  if (when == NULL)
    when = now = g_date_time_new_now_utc ();

  if (!self->qualified)
    problems |= IMZALA_CERTIFICATE_PROBLEM_NOT_QUALIFIED;
  if ((self->key_usage & IMZALA_KEY_USAGE_NON_REPUDIATION) == 0)
    problems |= IMZALA_CERTIFICATE_PROBLEM_NO_NON_REPUDIATION;
  /* A certificate whose dates cannot be read is treated as expired: it must
   * never be recommended. */
  if (self->not_after == NULL || g_date_time_compare (when, self->not_after) > 0)
    problems |= IMZALA_CERTIFICATE_PROBLEM_EXPIRED;
  if (self->not_before != NULL && g_date_time_compare (when, self->not_before) < 0)
    problems |= IMZALA_CERTIFICATE_PROBLEM_NOT_YET_VALID;
  if (!self->has_private_key)
    problems |= IMZALA_CERTIFICATE_PROBLEM_NO_PRIVATE_KEY;
  if (self->is_ca)
    problems |= IMZALA_CERTIFICATE_PROBLEM_CA;

  return problems;
}

gboolean
imzala_certificate_is_recommended (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), FALSE);
  return imzala_certificate_get_problems (self, NULL) == IMZALA_CERTIFICATE_PROBLEM_NONE;
}

/* A date for a sentence, in the user's time zone and language ("1 May 2024",
 * "1 Mayıs 2024"). */
static char *
format_date (GDateTime *date_time)
{
  g_autoptr(GDateTime) local = NULL;

  if (date_time == NULL)
    return g_strdup ("?");
  local = g_date_time_to_local (date_time);
  /* Translators: a date in a certificate problem sentence; see the
   * g_date_time_format() documentation for the codes. */
  return g_date_time_format (local != NULL ? local : date_time, _("%-d %B %Y"));
}

GStrv
imzala_certificate_describe_problems (ImzalaCertificate *self, GDateTime *when)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  ImzalaCertificateProblem problems;

  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);

  problems = imzala_certificate_get_problems (self, when);
  builder = g_strv_builder_new ();

  if (problems & IMZALA_CERTIFICATE_PROBLEM_EXPIRED)
    {
      g_autofree char *date = format_date (self->not_after);
      g_autofree char *sentence = g_strdup_printf (_("Expired on %s."), date);
      g_strv_builder_add (builder, sentence);
    }
  if (problems & IMZALA_CERTIFICATE_PROBLEM_NOT_YET_VALID)
    {
      g_autofree char *date = format_date (self->not_before);
      g_autofree char *sentence = g_strdup_printf (_("Not valid before %s."), date);
      g_strv_builder_add (builder, sentence);
    }
  if (problems & IMZALA_CERTIFICATE_PROBLEM_NOT_QUALIFIED)
    g_strv_builder_add (builder, _("Not a qualified certificate."));
  if (problems & IMZALA_CERTIFICATE_PROBLEM_NO_NON_REPUDIATION)
    g_strv_builder_add (builder,
                        _("Not meant for electronic signatures (no non-repudiation key usage)."));
  if (problems & IMZALA_CERTIFICATE_PROBLEM_NO_PRIVATE_KEY)
    g_strv_builder_add (builder, _("No private key for this certificate on the card."));
  if (problems & IMZALA_CERTIFICATE_PROBLEM_CA)
    g_strv_builder_add (builder, _("This is a certificate authority certificate."));

  return g_strv_builder_end (builder);
}

/* ---- The object on a token ---- */

void
imzala_certificate_set_object_info (ImzalaCertificate *self,
                                    GBytes            *id,
                                    const char        *label,
                                    gboolean           has_private_key)
{
  g_return_if_fail (IMZALA_IS_CERTIFICATE (self));

  g_clear_pointer (&self->id, g_bytes_unref);
  if (id != NULL)
    self->id = g_bytes_ref (id);
  replace_string (&self->label, label);
  self->has_private_key = has_private_key;
  /* Callers that do not say how stay truthful: a key, but not how. */
  self->key_pairing = has_private_key ? IMZALA_KEY_PAIRING_BY_ID : IMZALA_KEY_PAIRING_NONE;
}

ImzalaKeyPairing
imzala_certificate_get_key_pairing (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), IMZALA_KEY_PAIRING_NONE);
  return self->key_pairing;
}

void
imzala_certificate_set_key_pairing (ImzalaCertificate *self,
                                    ImzalaKeyPairing   pairing)
{
  g_return_if_fail (IMZALA_IS_CERTIFICATE (self));

  self->key_pairing = pairing;
  self->has_private_key = pairing != IMZALA_KEY_PAIRING_NONE;
}

GBytes *
imzala_certificate_get_id (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->id;
}

const char *
imzala_certificate_get_label (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), NULL);
  return self->label;
}

gboolean
imzala_certificate_has_private_key (ImzalaCertificate *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (self), FALSE);
  return self->has_private_key;
}
