#define G_LOG_DOMAIN "imzala-cms"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "imzala-cms.h"
#include "imzala-der-private.h"
#include "imzala-error.h"
#include "imzala-cancel-private.h"

/* The largest content imzala_cms_sign() signs in memory. Portal texts are a
 * few kilobytes; the limit keeps a mistaken caller from building a CMS in
 * memory that no portal would accept anyway. Files go through the streaming
 * functions below, which hold one chunk at a time. */
#define MAX_CONTENT_SIZE IMZALA_CMS_MAX_CONTENT_SIZE

/* What a streaming pass reads at a time. */
#define STREAM_CHUNK_SIZE (256 * 1024)

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

static void
set_build_error (GError **error, const char *what)
{
  log_openssl_errors (what);
  g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                       _("The signature could not be built."));
}

/* The signatureAlgorithm of the SignerInfo. OpenSSL 3.0 writes plain
 * rsaEncryption for PKCS#1 v1.5, which RFC 3370 allows; we name the hash in
 * it (sha256WithRSAEncryption, ecdsa-with-SHA384, ...), which every verifier
 * accepts and some Turkish ones expect. */
static gboolean
set_signature_algorithm (CMS_SignerInfo *si, ImzalaCertificate *signer, const EVP_MD *md)
{
  X509_ALGOR *signature_alg = NULL;
  int public_key_nid;
  int signature_nid = NID_undef;
  gboolean rsa;

  switch (imzala_certificate_get_key_type (signer))
    {
    case IMZALA_KEY_TYPE_RSA:
      public_key_nid = NID_rsaEncryption;
      rsa = TRUE;
      break;
    case IMZALA_KEY_TYPE_EC_P256:
    case IMZALA_KEY_TYPE_EC_P384:
    case IMZALA_KEY_TYPE_EC_OTHER:
      public_key_nid = NID_X9_62_id_ecPublicKey;
      rsa = FALSE;
      break;
    case IMZALA_KEY_TYPE_UNKNOWN:
    default:
      return FALSE;
    }

  if (!OBJ_find_sigid_by_algs (&signature_nid, EVP_MD_get_type (md), public_key_nid))
    return FALSE;

  CMS_SignerInfo_get0_algs (si, NULL, NULL, NULL, &signature_alg);
  if (signature_alg == NULL)
    return FALSE;
  /* RSA algorithm identifiers carry explicit NULL parameters; ECDSA ones
   * have none (RFC 5754). */
  return X509_ALGOR_set0 (signature_alg, OBJ_nid2obj (signature_nid),
                          rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) == 1;
}

static gboolean
add_signed_attributes (CMS_SignerInfo *si,
                       GBytes         *content_digest,
                       GDateTime      *signing_time)
{
  ASN1_TIME *time;
  gsize digest_length;
  const void *digest = g_bytes_get_data (content_digest, &digest_length);
  gboolean ok;

  /* With CMS_PARTIAL, CMS_add1_signer() leaves these three to CMS_final(),
   * which would also try to sign with the (public) key we gave it. The
   * digest was computed by the caller, in memory or as a stream. */
  if (!CMS_signed_add1_attr_by_NID (si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                    OBJ_nid2obj (NID_pkcs7_data), -1))
    return FALSE;
  if (!CMS_signed_add1_attr_by_NID (si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
                                    digest, (int) digest_length))
    return FALSE;

  /* ASN1_TIME_set() picks UTCTime up to 2049 and GeneralizedTime after it,
   * as RFC 5652 requires for signingTime. */
  time = ASN1_TIME_set (NULL, (time_t) g_date_time_to_unix (signing_time));
  if (time == NULL)
    return FALSE;
  ok = CMS_signed_add1_attr_by_NID (si, NID_pkcs9_signingTime, time->type, time, -1) == 1;
  ASN1_TIME_free (time);
  return ok;
}

/* The bytes the signature covers: the signed attributes as a DER SET OF
 * (universal tag 0x31, not the [0] IMPLICIT tag they carry in the
 * SignerInfo), sorted as DER requires. OpenSSL does this internally with its
 * CMS_Attributes_Sign template, which 3.0 does not export; the exported
 * PKCS7_ATTR_SIGN template is the same SET OF X509_ATTRIBUTE with
 * ASN1_TFLG_SET_ORDER, so it yields identical bytes. The SignerInfo itself is
 * encoded with the same DER ordering by i2d_CMS, so what is signed matches
 * what a verifier re-encodes. */
static GBytes *
encode_signed_attributes (CMS_SignerInfo *si)
{
  STACK_OF (X509_ATTRIBUTE) *attributes = sk_X509_ATTRIBUTE_new_null ();
  unsigned char *der = NULL;
  int count = CMS_signed_get_attr_count (si);
  int length;
  GBytes *result;

  if (attributes == NULL || count <= 0)
    {
      sk_X509_ATTRIBUTE_free (attributes);
      return NULL;
    }
  /* Borrowed pointers: the stack only lends them to the encoder. */
  for (int i = 0; i < count; i++)
    if (!sk_X509_ATTRIBUTE_push (attributes, CMS_signed_get_attr (si, i)))
      {
        sk_X509_ATTRIBUTE_free (attributes);
        return NULL;
      }

  length = ASN1_item_i2d ((ASN1_VALUE *) attributes, &der, ASN1_ITEM_rptr (PKCS7_ATTR_SIGN));
  sk_X509_ATTRIBUTE_free (attributes);
  if (length <= 0)
    return NULL;
  result = g_bytes_new (der, length);
  OPENSSL_free (der);
  return result;
}

/* CMS_sign() with CMS_PARTIAL leaves eContent as an empty placeholder that
 * CMS_final() would stream into; we fill it directly. */
static gboolean
set_attached_content (CMS_ContentInfo *cms, GBytes *content)
{
  ASN1_OCTET_STRING **slot = CMS_get0_content (cms);
  gsize size;
  const void *data = g_bytes_get_data (content, &size);

  if (slot == NULL)
    return FALSE;
  if (*slot == NULL)
    {
      *slot = ASN1_OCTET_STRING_new ();
      if (*slot == NULL)
        return FALSE;
    }
  if (!ASN1_OCTET_STRING_set (*slot, data, (int) size))
    return FALSE;
  /* ASN1_STRING_FLAG_CONT marks "content still to come"; it is here now. */
  (*slot)->flags &= ~ASN1_STRING_FLAG_CONT;
  return TRUE;
}

static GBytes *
cms_to_der (CMS_ContentInfo *cms)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long length;
  GBytes *result = NULL;

  if (bio == NULL)
    return NULL;
  if (i2d_CMS_bio (bio, cms) == 1)
    {
      length = BIO_get_mem_data (bio, &data);
      if (length > 0 && data != NULL)
        result = g_bytes_new (data, length);
    }
  BIO_free (bio);
  return result;
}

/* One DER tag and definite length at @p (single-byte tags only: that is all
 * the top of a SignedData has). */
static gboolean
der_header (const guint8 *p,
            gsize         available,
            guint8       *tag,
            gsize        *header_length,
            gsize        *content_length)
{
  guint64 length = 0;

  if (available < 2 || (p[0] & 0x1f) == 0x1f)
    return FALSE;
  *tag = p[0];
  if (p[1] < 0x80)
    {
      length = p[1];
      *header_length = 2;
    }
  else
    {
      guint count = p[1] & 0x7f;

      /* 0x80 would be an indefinite length: not DER. */
      if (count == 0 || count > sizeof (gsize) || available < 2 + count)
        return FALSE;
      for (guint i = 0; i < count; i++)
        length = (length << 8) | p[2 + i];
      *header_length = 2 + count;
    }
  if (length > available - *header_length)
    return FALSE;
  *content_length = (gsize) length;
  return TRUE;
}

/* The signature over the signed attributes, checked with @signer's public
 * key: a sign function that used another key or returned garbage is caught
 * here, before anything leaves the machine. This replaces reading the
 * finished DER back with d2i_CMS_ContentInfo() (3.1 M instructions: it
 * parses every certificate in it again) and CMS_verify(): the bytes the
 * signature covers are exactly @to_be_signed, which i2d writes unchanged
 * into the SignerInfo (see encode_signed_attributes()). */
static gboolean
signature_verifies (ImzalaCertificate *signer,
                    const EVP_MD      *md,
                    GBytes            *to_be_signed,
                    GBytes            *signature)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  gboolean ok;

  ok = ctx != NULL
       && EVP_DigestVerifyInit (ctx, NULL, md, NULL, X509_get0_pubkey (imzala_certificate_get_x509 (signer))) == 1
       && EVP_DigestVerify (ctx, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature),
                            g_bytes_get_data (to_be_signed, NULL), g_bytes_get_size (to_be_signed)) == 1;
  EVP_MD_CTX_free (ctx);
  if (!ok)
    log_openssl_errors ("The new signature does not verify");
  return ok;
}

/* One certificate's DER, as the certificates SET may carry it: a
 * Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm
 * SEQUENCE, signature BIT STRING } with nothing around or after it. The
 * certificates of a card listed for one named certificate reach us
 * unparsed (imzala_module_set_only_certificate()); one that is not even
 * this would make the whole signature unreadable for every verifier. */
static gboolean
der_is_certificate (const guint8 *p,
                    gsize         size)
{
  static const guint8 expected[] = { 0x30, 0x30, 0x03 };
  guint8 tag;
  gsize hl, cl, pos;

  if (!der_header (p, size, &tag, &hl, &cl) || tag != 0x30 || hl + cl != size)
    return FALSE;
  pos = hl;
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      gsize inner_hl, inner_cl;

      if (!der_header (p + pos, size - pos, &tag, &inner_hl, &inner_cl) || tag != expected[i])
        return FALSE;
      pos += inner_hl + inner_cl;
    }
  return pos == size;
}

typedef struct
{
  const guint8 *data;
  gsize         size;
} DerElement;

/* The order of a DER SET OF: the encodings compared as octet strings, a
 * shorter one that is a prefix of the other first (as OpenSSL's i2d sorts
 * them, so that the bytes stay what CMS_add1_cert() made). */
static gint
der_element_compare (gconstpointer a,
                     gconstpointer b)
{
  const DerElement *x = a;
  const DerElement *y = b;
  int result = memcmp (x->data, y->data, MIN (x->size, y->size));

  if (result != 0)
    return result;
  return x->size < y->size ? -1 : x->size > y->size ? 1 : 0;
}

/* The frame of a definite-length DER ContentInfo { contentType, [0]
 * EXPLICIT SignedData SEQUENCE { ... } } of @size bytes: where its
 * contentType starts and how long it is, the SignedData's content length,
 * and where that content (the version) starts. FALSE when @p is not one. */
static gboolean
signed_data_frame (const guint8 *p,
                   gsize         size,
                   gsize        *content_type_start,
                   gsize        *content_type_length,
                   gsize        *signed_data_length,
                   gsize        *version_start)
{
  guint8 tag;
  gsize hl, cl, pos;

  if (!der_header (p, size, &tag, &hl, &cl) || tag != 0x30 || hl + cl != size)
    return FALSE;
  pos = hl;
  *content_type_start = pos;
  if (!der_header (p + pos, size - pos, &tag, &hl, &cl) || tag != 0x06)
    return FALSE;
  *content_type_length = hl + cl;
  pos += *content_type_length;
  if (!der_header (p + pos, size - pos, &tag, &hl, &cl) || tag != 0xa0 || pos + hl + cl != size)
    return FALSE;
  pos += hl;
  if (!der_header (p + pos, size - pos, &tag, &hl, &cl) || tag != 0x30 || pos + hl + cl != size)
    return FALSE;
  *signed_data_length = cl;
  *version_start = pos + hl;
  return TRUE;
}

/* @der (a SignedData from i2d, with the signer's certificate in its
 * certificates field) with @certificates (DER, GBytes) added to that field,
 * each once, in DER order, every enclosing length rewritten: the bytes
 * CMS_add1_cert() and i2d would give, without parsing the certificates
 * (d2i_X509 is ~2 M instructions each in OpenSSL 3.0, most of it the public
 * key, which the SignedData does not need). */
static GBytes *
add_certificates_der (GBytes    *der,
                      GPtrArray *certificates)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (der, &size);
  g_autoptr(GArray) elements = g_array_new (FALSE, FALSE, sizeof (DerElement));
  g_autoptr(GByteArray) out = NULL;
  guint8 tag;
  gsize hl, cl, pos, content_type_start, content_type_length, version_start;
  gsize signed_data_length, certificates_start, certificates_end, signed_data_end;
  guint64 certificates_content = 0, signed_data_content, wrapper_content, outer_content;

  /* ContentInfo SEQUENCE { contentType, [0] EXPLICIT SignedData SEQUENCE {
   * version, digestAlgorithms, encapContentInfo, [0] IMPLICIT certificates,
   * signerInfos } } */
  if (!signed_data_frame (p, size, &content_type_start, &content_type_length, &signed_data_length,
                          &version_start))
    return NULL;
  pos = version_start;
  signed_data_end = size;
  /* version, digestAlgorithms, encapContentInfo */
  for (guint i = 0; i < 3; i++)
    {
      if (!der_header (p + pos, size - pos, &tag, &hl, &cl))
        return NULL;
      pos += hl + cl;
    }
  certificates_start = pos;
  if (!der_header (p + pos, size - pos, &tag, &hl, &cl) || tag != 0xa0)
    return NULL;
  certificates_end = pos + hl + cl;
  for (pos += hl; pos < certificates_end;)
    {
      gsize element_hl, element_cl;
      DerElement element;

      if (!der_header (p + pos, certificates_end - pos, &tag, &element_hl, &element_cl))
        return NULL;
      element.data = p + pos;
      element.size = element_hl + element_cl;
      g_array_append_val (elements, element);
      pos += element.size;
    }

  for (guint i = 0; i < certificates->len; i++)
    {
      GBytes *certificate = g_ptr_array_index (certificates, i);
      DerElement element;
      gboolean present = FALSE;

      element.data = g_bytes_get_data (certificate, &element.size);
      /* Skipped, as a listing skips a certificate it cannot read. */
      if (element.data == NULL || !der_is_certificate (element.data, element.size))
        {
          g_debug ("Not carrying a %zu-byte object that is not a certificate", element.size);
          continue;
        }
      for (guint j = 0; j < elements->len && !present; j++)
        present = der_element_compare (&g_array_index (elements, DerElement, j), &element) == 0;
      if (!present)
        g_array_append_val (elements, element);
    }
  g_array_sort (elements, der_element_compare);
  for (guint i = 0; i < elements->len; i++)
    certificates_content += g_array_index (elements, DerElement, i).size;

  signed_data_content = (certificates_start - version_start)
                        + imzala_der_header_size (certificates_content) + certificates_content
                        + (signed_data_end - certificates_end);
  wrapper_content = imzala_der_header_size (signed_data_content) + signed_data_content;
  outer_content = content_type_length + imzala_der_header_size (wrapper_content) + wrapper_content;

  out = g_byte_array_sized_new ((guint) (imzala_der_header_size (outer_content) + outer_content));
  imzala_der_append_header (out, 0x30, outer_content);
  g_byte_array_append (out, p + content_type_start, content_type_length);
  imzala_der_append_header (out, 0xa0, wrapper_content);
  imzala_der_append_header (out, 0x30, signed_data_content);
  g_byte_array_append (out, p + version_start, certificates_start - version_start);
  imzala_der_append_header (out, 0xa0, certificates_content);
  for (guint i = 0; i < elements->len; i++)
    g_byte_array_append (out, g_array_index (elements, DerElement, i).data,
                         g_array_index (elements, DerElement, i).size);
  g_byte_array_append (out, p + certificates_end, signed_data_end - certificates_end);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static void
set_not_verified_error (GError **error)
{
  g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_SIGNATURE_INVALID,
                       _("The card returned a signature that does not verify. "
                         "Nothing was sent."));
}

/* Builds and signs the SignedData (DER): the detached form when
 * @attached_content is NULL. The SignedData is checked as it is built, not
 * read back: OpenSSL's CADES flag must have added signing-certificate-v2,
 * and the signature must verify over the signed attributes with @signer's
 * key (unless IMZALA_CMS_SIGNATURE_CHECKED says the sign function did that
 * already). The signer, the one SignerInfo and the messageDigest are ours
 * by construction. */
static GBytes *
build_signed_data (ImzalaCertificate *signer,
                   GPtrArray         *certificates,
                   GBytes            *content_digest,
                   GBytes            *attached_content,
                   ImzalaCmsFlags     flags,
                   GDateTime         *signing_time,
                   ImzalaCmsSignFunc  sign_func,
                   gpointer           sign_data,
                   GCancellable      *cancellable,
                   GError           **error)
{
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GBytes) to_be_signed = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GBytes) der = NULL;
  GBytes *result;
  X509 *x509;
  EVP_PKEY *public_key;
  const EVP_MD *md;
  ImzalaDigest digest;
  CMS_ContentInfo *cms = NULL;
  CMS_SignerInfo *si;
  gboolean detached = attached_content == NULL;
  unsigned int cms_flags;

  if (imzala_cancelled (cancellable, error))
    return NULL;

  if (imzala_certificate_get_key_type (signer) == IMZALA_KEY_TYPE_UNKNOWN)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_UNSUPPORTED_KEY,
                           _("İmzala cannot sign with this kind of key."));
      return NULL;
    }

  if (signing_time == NULL)
    signing_time = now = g_date_time_new_now_utc ();

  x509 = imzala_certificate_get_x509 (signer);
  public_key = X509_get0_pubkey (x509);
  digest = imzala_digest_for_certificate (signer);
  md = imzala_digest_get_md (digest);
  if (g_bytes_get_size (content_digest) != (gsize) EVP_MD_get_size (md))
    goto build_error;

  cms_flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP | CMS_CADES;
  if (detached)
    cms_flags |= CMS_DETACHED;

  cms = CMS_sign (NULL, NULL, NULL, NULL, cms_flags);
  if (cms == NULL)
    goto build_error;

  /* The public key stands in for the private one: with CMS_PARTIAL nothing
   * is signed here. CMS_CADES makes OpenSSL add the ESS
   * signing-certificate-v2 attribute (hashed with @md, with issuerSerial). */
  si = CMS_add1_signer (cms, x509, public_key, md, cms_flags);
  if (si == NULL)
    goto build_error;
  if (CMS_signed_get_attr_by_NID (si, NID_id_smime_aa_signingCertificateV2, -1) < 0)
    goto build_error;
  if (!set_signature_algorithm (si, signer, md))
    goto build_error;
  if (!add_signed_attributes (si, content_digest, signing_time))
    goto build_error;
  if (!detached && !set_attached_content (cms, attached_content))
    goto build_error;

  to_be_signed = encode_signed_attributes (si);
  if (to_be_signed == NULL)
    goto build_error;

  signature = sign_func (to_be_signed, digest, sign_data, cancellable, error);
  if (signature == NULL)
    {
      /* The callback owns its error; make sure there is one. */
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                             _("The card did not sign."));
      CMS_ContentInfo_free (cms);
      return NULL;
    }
  if ((flags & IMZALA_CMS_SIGNATURE_CHECKED) == 0
      && !signature_verifies (signer, md, to_be_signed, signature))
    {
      set_not_verified_error (error);
      CMS_ContentInfo_free (cms);
      return NULL;
    }

  {
    gsize size;
    const void *data = g_bytes_get_data (signature, &size);

    if (size == 0 || size > G_MAXINT
        || !ASN1_STRING_set (CMS_SignerInfo_get0_signature (si), data, (int) size))
      goto build_error;
  }

  der = cms_to_der (cms);
  if (der == NULL)
    goto build_error;
  CMS_ContentInfo_free (cms);
  cms = NULL;

  if (certificates == NULL || certificates->len == 0)
    return g_steal_pointer (&der);
  result = add_certificates_der (der, certificates);
  if (result == NULL)
    goto build_error;
  return result;

build_error:
  set_build_error (error, "Building the CMS failed");
  CMS_ContentInfo_free (cms);
  return NULL;
}

/* The DER of each ImzalaCertificate in @extra_certificates (nullable). */
static GPtrArray *
certificates_der (GPtrArray *extra_certificates)
{
  GPtrArray *ders = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  for (guint i = 0; extra_certificates != NULL && i < extra_certificates->len; i++)
    g_ptr_array_add (ders, g_bytes_ref (imzala_certificate_get_der (g_ptr_array_index (extra_certificates, i))));
  return ders;
}

GBytes *
imzala_cms_sign_full (ImzalaCertificate *signer,
                      GPtrArray         *certificates,
                      GBytes            *content,
                      GBytes            *content_digest,
                      ImzalaCmsFlags     flags,
                      GDateTime         *signing_time,
                      ImzalaCmsSignFunc  sign_func,
                      gpointer           sign_data,
                      GCancellable      *cancellable,
                      GError           **error)
{
  g_autoptr(GBytes) computed_digest = NULL;
  gboolean detached = content == NULL || (flags & IMZALA_CMS_DETACHED) != 0;

  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (signer), NULL);
  g_return_val_if_fail (content != NULL || content_digest != NULL, NULL);
  g_return_val_if_fail (sign_func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (imzala_cancelled (cancellable, error))
    return NULL;

  if (content_digest == NULL)
    {
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int digest_length = 0;
      gsize size;
      const void *data;

      if (g_bytes_get_size (content) > MAX_CONTENT_SIZE)
        {
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE,
                               _("The text to sign is too large."));
          return NULL;
        }

      data = g_bytes_get_data (content, &size);
      if (!EVP_Digest (data, size, digest, &digest_length,
                       imzala_digest_get_md (imzala_digest_for_certificate (signer)), NULL))
        {
          set_build_error (error, "Hashing the content failed");
          return NULL;
        }
      content_digest = computed_digest = g_bytes_new (digest, digest_length);
    }

  return build_signed_data (signer, certificates, content_digest, detached ? NULL : content,
                            flags, signing_time, sign_func, sign_data, cancellable, error);
}

GBytes *
imzala_cms_sign (ImzalaCertificate *signer,
                 GPtrArray         *extra_certificates,
                 GBytes            *content,
                 ImzalaCmsFlags     flags,
                 GDateTime         *signing_time,
                 ImzalaCmsSignFunc  sign_func,
                 gpointer           sign_data,
                 GCancellable      *cancellable,
                 GError           **error)
{
  g_autoptr(GPtrArray) certificates = NULL;

  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (signer), NULL);
  g_return_val_if_fail (content != NULL, NULL);

  certificates = certificates_der (extra_certificates);
  return imzala_cms_sign_full (signer, certificates, content, NULL, flags, signing_time,
                               sign_func, sign_data, cancellable, error);
}

/* ---- Big content, as a stream ---- */

/* The GIO streams behind the ImzalaCmsReadFunc and ImzalaCmsWriteFunc of
 * imzala_cms_digest_stream() and imzala_cms_write_attached(). */
typedef struct
{
  GInputStream  *input;
  GOutputStream *output;
  GCancellable  *cancellable;
} StreamPair;

static gssize
stream_read (gpointer   user_data,
             guint8    *buffer,
             gsize      size,
             GError   **error)
{
  StreamPair *pair = user_data;

  return g_input_stream_read (pair->input, buffer, size, pair->cancellable, error);
}

static gboolean
stream_write (gpointer       user_data,
              const guint8  *buffer,
              gsize          size,
              GError       **error)
{
  StreamPair *pair = user_data;

  return g_output_stream_write_all (pair->output, buffer, size, NULL, pair->cancellable, error);
}

GBytes *
imzala_cms_digest_read (ImzalaCmsReadFunc      read_func,
                        gpointer               read_data,
                        ImzalaDigest           digest,
                        guint64                total,
                        ImzalaCmsProgressFunc  progress,
                        gpointer               progress_data,
                        guint64               *length_out,
                        GError               **error)
{
  g_autofree guint8 *buffer = NULL;
  EVP_MD_CTX *md_ctx;
  unsigned char value[EVP_MAX_MD_SIZE];
  unsigned int value_length = 0;
  guint64 done = 0;
  GBytes *result = NULL;

  g_return_val_if_fail (read_func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  md_ctx = EVP_MD_CTX_new ();
  if (md_ctx == NULL || EVP_DigestInit_ex (md_ctx, imzala_digest_get_md (digest), NULL) != 1)
    {
      EVP_MD_CTX_free (md_ctx);
      set_build_error (error, "Hashing the content failed");
      return NULL;
    }

  /* One chunk at a time: memory stays the same whatever the size. */
  buffer = g_malloc (STREAM_CHUNK_SIZE);
  for (;;)
    {
      gssize count = read_func (read_data, buffer, STREAM_CHUNK_SIZE, error);

      if (count < 0)
        goto out;
      if (count == 0)
        break;
      if (EVP_DigestUpdate (md_ctx, buffer, (size_t) count) != 1)
        {
          set_build_error (error, "Hashing the content failed");
          goto out;
        }
      done += (guint64) count;
      if (progress != NULL)
        progress (done, total, progress_data);
    }

  if (EVP_DigestFinal_ex (md_ctx, value, &value_length) != 1)
    {
      set_build_error (error, "Hashing the content failed");
      goto out;
    }
  result = g_bytes_new (value, value_length);
  if (length_out != NULL)
    *length_out = done;

out:
  EVP_MD_CTX_free (md_ctx);
  return result;
}

GBytes *
imzala_cms_digest_stream (GInputStream          *input,
                          ImzalaDigest           digest,
                          guint64                total,
                          ImzalaCmsProgressFunc  progress,
                          gpointer               progress_data,
                          guint64               *length_out,
                          GCancellable          *cancellable,
                          GError               **error)
{
  StreamPair pair = { input, NULL, cancellable };

  g_return_val_if_fail (G_IS_INPUT_STREAM (input), NULL);

  return imzala_cms_digest_read (stream_read, &pair, digest, total, progress, progress_data,
                                 length_out, error);
}

GBytes *
imzala_cms_sign_digest (ImzalaCertificate *signer,
                        GPtrArray         *extra_certificates,
                        GBytes            *content_digest,
                        GDateTime         *signing_time,
                        ImzalaCmsSignFunc  sign_func,
                        gpointer           sign_data,
                        GCancellable      *cancellable,
                        GError           **error)
{
  g_autoptr(GPtrArray) certificates = NULL;

  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (signer), NULL);
  g_return_val_if_fail (content_digest != NULL, NULL);

  certificates = certificates_der (extra_certificates);
  return imzala_cms_sign_full (signer, certificates, NULL, content_digest, IMZALA_CMS_DETACHED,
                               signing_time, sign_func, sign_data, cancellable, error);
}

/* The detached SignedData cut where the content goes:
 *
 *   ContentInfo SEQUENCE { contentType, [0] { SignedData SEQUENCE { version,
 *     digestAlgorithms, encapContentInfo SEQUENCE { eContentType }, ←here
 *     certificates, signerInfos } } }
 *
 * The attached form adds [0] EXPLICIT OCTET STRING after eContentType; every
 * enclosing length grows by what was added, and since the content's length
 * is known before it is written, every length stays definite (DER), as
 * i2d_CMS_ContentInfo writes it for imzala_cms_sign(). @head gets all the
 * bytes before the content, @tail_offset is where the rest (certificates and
 * signerInfos) begins in @der. */
static gboolean
split_for_content (GBytes     *der,
                   guint64     content_length,
                   GByteArray *head,
                   gsize      *tail_offset)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (der, &size);
  guint8 tag;
  gsize hl, cl;
  gsize pos, content_type_start, content_type_length;
  gsize signed_data_length, version_start, encap_start, encap_total, econtent_type_length;
  guint64 octets_total, explicit_total, encap_content, signed_data_content, wrapper_content, outer_content;

  /* ContentInfo { contentType, [0] EXPLICIT SignedData } */
  if (!signed_data_frame (p, size, &content_type_start, &content_type_length, &signed_data_length,
                          &version_start))
    return FALSE;
  pos = version_start;
  /* version, digestAlgorithms */
  if (!der_header (p + pos, size - pos, &tag, &hl, &cl) || tag != 0x02)
    return FALSE;
  pos += hl + cl;
  if (!der_header (p + pos, size - pos, &tag, &hl, &cl) || tag != 0x31)
    return FALSE;
  pos += hl + cl;
  /* encapContentInfo: only the eContentType when detached */
  encap_start = pos;
  if (!der_header (p + pos, size - pos, &tag, &hl, &cl) || tag != 0x30)
    return FALSE;
  encap_total = hl + cl;
  {
    gsize inner_hl, inner_cl;

    if (!der_header (p + pos + hl, cl, &tag, &inner_hl, &inner_cl) || tag != 0x06
        || inner_hl + inner_cl != cl)
      return FALSE;
    econtent_type_length = cl;
  }
  *tail_offset = encap_start + encap_total;

  octets_total = imzala_der_header_size (content_length) + content_length;
  explicit_total = imzala_der_header_size (octets_total) + octets_total;
  encap_content = econtent_type_length + explicit_total;
  signed_data_content = signed_data_length - encap_total + imzala_der_header_size (encap_content) + encap_content;
  wrapper_content = imzala_der_header_size (signed_data_content) + signed_data_content;
  outer_content = content_type_length + imzala_der_header_size (wrapper_content) + wrapper_content;

  imzala_der_append_header (head, 0x30, outer_content);
  g_byte_array_append (head, p + content_type_start, content_type_length);
  imzala_der_append_header (head, 0xa0, wrapper_content);
  imzala_der_append_header (head, 0x30, signed_data_content);
  g_byte_array_append (head, p + version_start, encap_start - version_start);
  imzala_der_append_header (head, 0x30, encap_content);
  g_byte_array_append (head, p + encap_start + (encap_total - econtent_type_length),
                       econtent_type_length);
  imzala_der_append_header (head, 0xa0, octets_total);
  imzala_der_append_header (head, 0x04, content_length);
  return TRUE;
}

gboolean
imzala_cms_write_attached_with (GBytes                *detached_cms,
                                ImzalaCmsReadFunc      read_func,
                                gpointer               read_data,
                                guint64                content_length,
                                GBytes                *content_digest,
                                ImzalaDigest           digest,
                                ImzalaCmsWriteFunc     write_func,
                                gpointer               write_data,
                                ImzalaCmsProgressFunc  progress,
                                gpointer               progress_data,
                                GError               **error)
{
  g_autoptr(GByteArray) head = g_byte_array_new ();
  g_autofree guint8 *buffer = NULL;
  EVP_MD_CTX *md_ctx = NULL;
  unsigned char value[EVP_MAX_MD_SIZE];
  unsigned int value_length = 0;
  gsize tail_offset = 0;
  gsize der_size;
  const guint8 *der;
  guint64 done = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (detached_cms != NULL, FALSE);
  g_return_val_if_fail (read_func != NULL, FALSE);
  g_return_val_if_fail (content_digest != NULL, FALSE);
  g_return_val_if_fail (write_func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (content_length > IMZALA_CMS_MAX_ATTACHED_SIZE)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE,
                           _("The file is too large for a signature that contains it; sign it with a detached signature."));
      return FALSE;
    }
  if (!split_for_content (detached_cms, content_length, head, &tail_offset))
    {
      set_build_error (error, "The detached signature cannot take the content");
      return FALSE;
    }

  md_ctx = EVP_MD_CTX_new ();
  if (md_ctx == NULL || EVP_DigestInit_ex (md_ctx, imzala_digest_get_md (digest), NULL) != 1)
    {
      set_build_error (error, "Hashing the content failed");
      goto out;
    }

  if (!write_func (write_data, head->data, head->len, error))
    goto out;

  buffer = g_malloc (STREAM_CHUNK_SIZE);
  for (;;)
    {
      gssize count = read_func (read_data, buffer, STREAM_CHUNK_SIZE, error);

      if (count < 0)
        goto out;
      if (count == 0)
        break;
      done += (guint64) count;
      /* A file that grew since it was hashed: not what was signed. */
      if (done > content_length)
        break;
      if (EVP_DigestUpdate (md_ctx, buffer, (size_t) count) != 1)
        {
          set_build_error (error, "Hashing the content failed");
          goto out;
        }
      if (!write_func (write_data, buffer, (gsize) count, error))
        goto out;
      if (progress != NULL)
        progress (done, content_length, progress_data);
    }

  if (done != content_length
      || EVP_DigestFinal_ex (md_ctx, value, &value_length) != 1
      || value_length != g_bytes_get_size (content_digest)
      || memcmp (value, g_bytes_get_data (content_digest, NULL), value_length) != 0)
    {
      log_openssl_errors ("Hashing the content again");
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH,
                           _("The file changed while it was being signed. Sign it again when nothing is writing to it."));
      goto out;
    }

  der = g_bytes_get_data (detached_cms, &der_size);
  ok = write_func (write_data, der + tail_offset, der_size - tail_offset, error);

out:
  EVP_MD_CTX_free (md_ctx);
  return ok;
}

gboolean
imzala_cms_write_attached (GBytes                *detached_cms,
                           GInputStream          *content,
                           guint64                content_length,
                           GBytes                *content_digest,
                           ImzalaDigest           digest,
                           GOutputStream         *output,
                           ImzalaCmsProgressFunc  progress,
                           gpointer               progress_data,
                           GCancellable          *cancellable,
                           GError               **error)
{
  StreamPair pair = { content, output, cancellable };

  g_return_val_if_fail (G_IS_INPUT_STREAM (content), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (output), FALSE);

  return imzala_cms_write_attached_with (detached_cms, stream_read, &pair, content_length,
                                         content_digest, digest, stream_write, &pair,
                                         progress, progress_data, error);
}
