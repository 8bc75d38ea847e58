/* imzala-verifier-parse.c: reading a signature into OpenSSL's CMS
 * structures, without parsing again the certificates the trust holds
 * (split from imzala-verifier.c; see imzala-verifier-private.h).
 *
 * OpenSSL 3.0 decodes a certificate's public key while it parses the
 * certificate, through its decoder framework, which it builds anew each
 * time: about 1.3 M instructions a certificate, a third of a portal's
 * check of a BES signature. Every signature carries its issuing CA's
 * certificate besides the signer's, and a verifier holds that certificate
 * already (the portal's trust, İmzala's Turkish CAs). So the DER of the
 * SignedData's certificates is looked up in the trust first: the CMS is
 * parsed without them, and they are put back in their order, the trust's
 * own X509 for each that the trust holds (the same bytes) and a parsed one
 * for any other. Anything that is not plain DER of the expected shape is
 * parsed as it is. */
#define G_LOG_DOMAIN "imzala-verifier"

#include "config.h"

#include <string.h>
#include <openssl/cms.h>
#include <openssl/err.h>

#include "imzala-der-private.h"
#include "imzala-trust.h"
#include "imzala-verifier-private.h"

/* The parse below copies the signature once more; past this size (a large
 * attached content) the copy would cost more than it saves, and the
 * signature is parsed as it is. */
#define KNOWN_CERTIFICATES_MAX_SIZE (4 * 1024 * 1024)

/* id-signedData, 1.2.840.113549.1.7.2, as DER contents. */
static const unsigned char signed_data_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };

static gboolean
next_is (Der *der, DerItem *item, int klass, int tag, guint8 identifier)
{
  return verifier_der_next (der, item) && item->klass == klass && item->tag == tag
         && item->whole[0] == identifier;
}

/* The CMS in @data with its certificates looked up in @trust; NULL when
 * @data does not have the shape this needs, or no certificate of it is
 * the trust's (the caller then parses @data as it is). */
static CMS_ContentInfo *
parse_with_known_certificates (const guint8 *data, gsize size, ImzalaTrust *trust)
{
  Der all = { data, (long) size };
  DerItem info, oid, wrapper, signed_data, item, certificates;
  Der inside, fields, list;
  const unsigned char *before_certificates;
  g_autoptr(GPtrArray) known = g_ptr_array_new ();   /* X509* owned, or NULL */
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (DerItem));
  guint n_known = 0;
  guint64 prefix, body_length, sd_length, wrapped_length;
  GByteArray *out;
  CMS_ContentInfo *cms = NULL;
  const unsigned char *p;
  gboolean ok = TRUE;

  if (size > KNOWN_CERTIFICATES_MAX_SIZE
      || !next_is (&all, &info, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, 0x30) || all.remaining != 0)
    return NULL;
  inside = info.content;
  if (!next_is (&inside, &oid, V_ASN1_UNIVERSAL, V_ASN1_OBJECT, 0x06)
      || oid.content.remaining != sizeof signed_data_oid
      || memcmp (oid.content.p, signed_data_oid, sizeof signed_data_oid) != 0
      || !next_is (&inside, &wrapper, V_ASN1_CONTEXT_SPECIFIC, 0, 0xa0) || inside.remaining != 0)
    return NULL;
  inside = wrapper.content;
  if (!next_is (&inside, &signed_data, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, 0x30) || inside.remaining != 0)
    return NULL;
  /* version, digestAlgorithms, encapContentInfo, then the certificates. */
  fields = signed_data.content;
  for (int i = 0; i < 3; i++)
    if (!verifier_der_next (&fields, &item))
      return NULL;
  before_certificates = fields.p;
  if (!next_is (&fields, &certificates, V_ASN1_CONTEXT_SPECIFIC, 0, 0xa0))
    return NULL;

  list = certificates.content;
  while (list.remaining > 0)
    {
      X509 *x509;

      /* Only Certificate choices (a SEQUENCE): the others are left to
       * the parser as they are. */
      if (!next_is (&list, &item, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, 0x30))
        {
          ok = FALSE;
          break;
        }
      x509 = imzala_trust_lookup_der (trust, item.whole, (gsize) item.whole_length);
      n_known += x509 != NULL;
      g_ptr_array_add (known, x509);
      g_array_append_val (items, item);
    }
  if (!ok || n_known == 0)
    goto out;
  g_debug ("%u of the signature’s %u certificates are the trust’s own", n_known, items->len);

  /* The SignedData without its certificates field, wrapped again, in one
   * buffer: the lengths first, from the inside out. */
  prefix = before_certificates - signed_data.content.p;
  body_length = prefix + (gsize) fields.remaining;
  sd_length = imzala_der_header_size (body_length) + body_length;
  wrapped_length = imzala_der_header_size (sd_length) + sd_length;
  out = g_byte_array_sized_new (imzala_der_header_size (oid.whole_length + wrapped_length)
                                + oid.whole_length + wrapped_length);
  imzala_der_append_header (out, 0x30, oid.whole_length + wrapped_length);
  g_byte_array_append (out, oid.whole, oid.whole_length);
  imzala_der_append_header (out, 0xa0, sd_length);
  imzala_der_append_header (out, 0x30, body_length);
  g_byte_array_append (out, signed_data.content.p, prefix);
  g_byte_array_append (out, fields.p, fields.remaining);

  p = out->data;
  cms = d2i_CMS_ContentInfo (NULL, &p, (long) out->len);
  if (cms != NULL && p != out->data + out->len)
    g_clear_pointer (&cms, CMS_ContentInfo_free);
  g_byte_array_unref (out);

  for (guint i = 0; cms != NULL && i < items->len; i++)
    {
      const DerItem *certificate = &g_array_index (items, DerItem, i);
      X509 *x509 = g_ptr_array_index (known, i);

      if (x509 != NULL)
        ok = CMS_add1_cert (cms, x509) == 1;
      else
        {
          p = certificate->whole;
          x509 = d2i_X509 (NULL, &p, certificate->whole_length);
          ok = x509 != NULL && p == certificate->whole + certificate->whole_length
               && CMS_add0_cert (cms, x509) == 1;
          if (!ok)
            X509_free (x509);
        }
      /* A certificate twice, say: parse the whole as it is. */
      if (!ok)
        g_clear_pointer (&cms, CMS_ContentInfo_free);
    }

out:
  for (guint i = 0; i < known->len; i++)
    X509_free (g_ptr_array_index (known, i));
  ERR_clear_error ();
  return cms;
}

CMS_ContentInfo *
verifier_parse_cms (GBytes *input, ImzalaTrust *trust)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (input, &size);
  CMS_ContentInfo *cms = NULL;

  if (data == NULL || size == 0 || size > VERIFIER_MAX_CMS_SIZE)
    return NULL;
  if (trust != NULL && !imzala_der_is_pem (data, size))
    cms = parse_with_known_certificates (data, size, trust);
  return cms != NULL ? cms : imzala_der_read_cms (data, size);
}
