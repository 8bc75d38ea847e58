/* imzala-verifier-counter.c: counter-signatures, each verified as a
 * signer of its own (split from imzala-verifier.c; see
 * imzala-verifier-private.h). */
#define G_LOG_DOMAIN "imzala-verifier"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
/* pem.h first: cms.h declares PEM_read_bio_CMS() with its macros. */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "imzala-cades-asn1.h"
#include "imzala-error.h"
#include "imzala-timestamp.h"
#include "imzala-verifier.h"
#include "imzala-verifier-private.h"
/* ---- Counter-signatures ---- */

/* The certificate a SignerIdentifier (IssuerAndSerialNumber, or [0]
 * SubjectKeyIdentifier) names, among @candidates. */
static X509 *
find_by_signer_identifier (const DerItem *sid, STACK_OF (X509) *candidates)
{
  X509_NAME *issuer = NULL;
  ASN1_INTEGER *serial = NULL;
  X509 *found = NULL;

  if (sid->klass == V_ASN1_UNIVERSAL && sid->tag == V_ASN1_SEQUENCE)
    {
      Der inner = sid->content;
      DerItem name_item, serial_item;
      const unsigned char *p;

      if (!verifier_der_next (&inner, &name_item) || !verifier_der_next (&inner, &serial_item))
        return NULL;
      p = name_item.whole;
      issuer = d2i_X509_NAME (NULL, &p, name_item.whole_length);
      p = serial_item.whole;
      serial = d2i_ASN1_INTEGER (NULL, &p, serial_item.whole_length);
    }
  for (int i = 0; found == NULL && i < sk_X509_num (candidates); i++)
    {
      X509 *x509 = sk_X509_value (candidates, i);

      if (issuer != NULL && serial != NULL)
        {
          if (X509_NAME_cmp (X509_get_issuer_name (x509), issuer) == 0
              && ASN1_INTEGER_cmp (X509_get0_serialNumber (x509), serial) == 0)
            found = x509;
        }
      else if (sid->klass == V_ASN1_CONTEXT_SPECIFIC && sid->tag == 0)
        {
          const ASN1_OCTET_STRING *key_id = X509_get0_subject_key_id (x509);

          if (key_id != NULL && ASN1_STRING_length (key_id) == sid->content.remaining
              && memcmp (ASN1_STRING_get0_data (key_id), sid->content.p,
                         (size_t) sid->content.remaining) == 0)
            found = x509;
        }
    }
  X509_NAME_free (issuer);
  ASN1_INTEGER_free (serial);
  ERR_clear_error ();
  if (found != NULL)
    X509_up_ref (found);
  return found;
}

/* The first value of the attribute @nid in a DER SET OF Attribute's
 * content. */
static gboolean
find_attribute_value (Der attributes, int nid, DerItem *value)
{
  DerItem attribute;

  while (verifier_der_next (&attributes, &attribute))
    {
      Der inner = attribute.content;
      DerItem oid, set;
      const unsigned char *p;
      ASN1_OBJECT *object;
      int found_nid;

      if (!verifier_der_next (&inner, &oid) || !verifier_der_next (&inner, &set))
        continue;
      p = oid.whole;
      object = d2i_ASN1_OBJECT (NULL, &p, oid.whole_length);
      found_nid = object != NULL ? OBJ_obj2nid (object) : NID_undef;
      ASN1_OBJECT_free (object);
      if (found_nid == nid)
        return verifier_der_next (&set.content, value);
    }
  ERR_clear_error ();
  return FALSE;
}


/* One counter-signature (a SignerInfo over @parent_signature): read by hand,
 * as OpenSSL 3.0 has no public API for them. */
static ImzalaSignerReport *
verify_counter_signature (Context *ctx, Signer *parent, GBytes *der, GDateTime *when, gboolean proven)
{
  ImzalaSignerReport *report = g_new0 (ImzalaSignerReport, 1);
  ASN1_OCTET_STRING *parent_signature = CMS_SignerInfo_get0_signature (parent->si);
  Der top = verifier_der_of_bytes (der);
  DerItem info, version, sid, digest_algorithm, item, signature;
  DerItem signed_attributes = { 0 };
  gboolean has_signed_attributes = FALSE;
  Signer c = { 0 };
  const unsigned char *p;
  X509_ALGOR *algorithm = NULL;
  EVP_MD_CTX *md_ctx = NULL;
  gboolean ok;

  report->status = IMZALA_VALIDATION_VALID;
  report->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) verifier_check_free);
  report->level = IMZALA_SIGNATURE_LEVEL_CMS;
  c.report = report;
  c.untrusted = X509_chain_up_ref (parent->untrusted);
  c.evidence = g_ptr_array_ref (parent->evidence);

  /* SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm,
   * [0] signedAttrs OPTIONAL, signatureAlgorithm, signature, ... } */
  if (!verifier_der_next (&top, &info) || info.tag != V_ASN1_SEQUENCE
      || !verifier_der_next (&info.content, &version) || !verifier_der_next (&info.content, &sid)
      || !verifier_der_next (&info.content, &digest_algorithm) || !verifier_der_next (&info.content, &item))
    goto malformed;
  if (item.klass == V_ASN1_CONTEXT_SPECIFIC && item.tag == 0)
    {
      signed_attributes = item;
      has_signed_attributes = TRUE;
      if (!verifier_der_next (&info.content, &item))
        goto malformed;
    }
  /* item is the signatureAlgorithm; the signature follows. */
  if (!verifier_der_next (&info.content, &signature) || signature.tag != V_ASN1_OCTET_STRING)
    goto malformed;

  p = digest_algorithm.whole;
  algorithm = d2i_X509_ALGOR (NULL, &p, digest_algorithm.whole_length);
  switch (algorithm != NULL ? OBJ_obj2nid (algorithm->algorithm) : NID_undef)
    {
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
      c.md = EVP_get_digestbyobj (algorithm->algorithm);
      report->digest = g_strdup (EVP_MD_get0_name (c.md));
      break;
    default:
      verifier_add_check (report, "algorithms", IMZALA_CHECK_INDETERMINATE,
                 _("The signature uses a hash algorithm that is no longer accepted."));
      goto out;
    }

  {
    STACK_OF (X509) *candidates = X509_chain_up_ref (c.untrusted);
    STACK_OF (X509) *trusted = imzala_trust_dup_certificates (ctx->trust);

    for (int i = 0; i < sk_X509_num (trusted); i++)
      verifier_push_x509 (candidates, sk_X509_value (trusted, i));
    c.signer = find_by_signer_identifier (&sid, candidates);
    sk_X509_pop_free (candidates, X509_free);
    sk_X509_pop_free (trusted, X509_free);
  }
  if (c.signer == NULL)
    {
      verifier_add_check (report, "signer-certificate", IMZALA_CHECK_INDETERMINATE,
                 _("The signer’s certificate is neither in the signature nor among the trusted "
                   "certificates."));
      goto out;
    }
  report->certificate = imzala_certificate_new_from_x509 (c.signer);
  report->qualified = imzala_verifier_is_qualified (c.signer);
  verifier_add_check (report, "signer-certificate", IMZALA_CHECK_PASSED,
             _("The signer’s certificate was found."));

  /* The same rule as for a signer: the signatureAlgorithm must fit the
   * key and the digestAlgorithm. */
  {
    const unsigned char *q = item.whole;
    X509_ALGOR *signature_alg = d2i_X509_ALGOR (NULL, &q, item.whole_length);
    gboolean fits = signature_alg != NULL
                    && verifier_signature_algorithm_fits (OBJ_obj2nid (signature_alg->algorithm),
                                                          X509_get0_pubkey (c.signer), c.md);

    X509_ALGOR_free (signature_alg);
    if (!fits)
      {
        verifier_signature_algorithm_failed (report);
        goto out;
      }
  }

  md_ctx = EVP_MD_CTX_new ();
  if (has_signed_attributes)
    {
      DerItem message_digest, signing_time;
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int digest_length = 0;
      /* The signature is over the attributes as a SET OF (tag 0x31), not
       * as the [0] they are stored as. */
      g_autofree guint8 *to_be_signed = g_memdup2 (signed_attributes.whole,
                                                   (gsize) signed_attributes.whole_length);

      to_be_signed[0] = 0x31;
      ok = md_ctx != NULL
           && EVP_DigestVerifyInit (md_ctx, NULL, c.md, NULL, X509_get0_pubkey (c.signer)) == 1
           && EVP_DigestVerify (md_ctx, signature.content.p, (size_t) signature.content.remaining,
                                to_be_signed, (size_t) signed_attributes.whole_length) == 1;
      if (!ok)
        {
          verifier_log_openssl_errors ("Counter-signature");
          verifier_add_check (report, "signature", IMZALA_CHECK_FAILED,
                     _("The signature is not valid: it was not made with this certificate’s key, or "
                       "it was changed afterwards."));
          goto out;
        }
      verifier_add_check (report, "signature", IMZALA_CHECK_PASSED,
                 _("The signature over the signed attributes is valid."));
      if (find_attribute_value (signed_attributes.content, NID_pkcs9_signingTime, &signing_time))
        {
          const unsigned char *q = signing_time.whole;
          ASN1_TIME *time = d2i_ASN1_TIME (NULL, &q, signing_time.whole_length);

          report->signing_time = verifier_date_time_from_asn1 (time);
          ASN1_TIME_free (time);
        }
      ok = find_attribute_value (signed_attributes.content, NID_pkcs9_messageDigest, &message_digest)
           && message_digest.tag == V_ASN1_OCTET_STRING
           && EVP_Digest (ASN1_STRING_get0_data (parent_signature),
                          (size_t) ASN1_STRING_length (parent_signature), digest, &digest_length,
                          c.md, NULL)
           && (long) digest_length == message_digest.content.remaining
           && CRYPTO_memcmp (digest, message_digest.content.p, digest_length) == 0;
      if (!ok)
        {
          verifier_add_check (report, "message-digest", IMZALA_CHECK_FAILED,
                     _("The counter-signature is not over this signature."));
          goto out;
        }
      verifier_add_check (report, "message-digest", IMZALA_CHECK_PASSED,
                 _("The counter-signature is over this signature."));
    }
  else
    {
      ok = md_ctx != NULL
           && EVP_DigestVerifyInit (md_ctx, NULL, c.md, NULL, X509_get0_pubkey (c.signer)) == 1
           && EVP_DigestVerify (md_ctx, signature.content.p, (size_t) signature.content.remaining,
                                ASN1_STRING_get0_data (parent_signature),
                                (size_t) ASN1_STRING_length (parent_signature)) == 1;
      if (!ok)
        {
          verifier_log_openssl_errors ("Counter-signature");
          verifier_add_check (report, "signature", IMZALA_CHECK_FAILED,
                     _("The counter-signature is not over this signature."));
          goto out;
        }
      verifier_add_check (report, "signature", IMZALA_CHECK_PASSED,
                 _("The counter-signature is over this signature."));
    }

  report->validation_time = g_date_time_ref (when);
  verifier_verify_chain_and_status (ctx, &c, when, proven);
  goto out;

malformed:
  verifier_add_check (report, "signed-attributes", IMZALA_CHECK_FAILED,
             _("A counter-signature cannot be read."));

out:
  if (report->status == IMZALA_VALIDATION_VALID)
    report->reason = g_strdup (_("The signature is valid."));
  EVP_MD_CTX_free (md_ctx);
  X509_ALGOR_free (algorithm);
  verifier_signer_clear (&c);
  ERR_clear_error ();
  return report;
}

void
verifier_check_counter_signatures (Context *ctx, Signer *s, GDateTime *when, gboolean proven)
{
  g_autoptr(GPtrArray) values = verifier_attribute_values (s->si, NID_pkcs9_countersignature, FALSE);

  if (values->len == 0)
    return;
  s->report->counter_signers = g_ptr_array_new_with_free_func ((GDestroyNotify) verifier_signer_report_free);
  for (guint i = 0; i < values->len; i++)
    {
      ImzalaSignerReport *counter = verify_counter_signature (ctx, s, g_ptr_array_index (values, i),
                                                              when, proven);

      g_ptr_array_add (s->report->counter_signers, counter);
      /* The file holds a broken or open counter-signature: said on the
       * signer it counter-signs. */
      switch (counter->status)
        {
        case IMZALA_VALIDATION_VALID:
          verifier_add_check (s->report, "counter-signature", IMZALA_CHECK_PASSED,
                     _("A counter-signature over this signature is valid."));
          break;
        case IMZALA_VALIDATION_INVALID:
          {
            g_autofree char *message = g_strdup_printf (_("A counter-signature is not valid: %s"),
                                                        counter->reason);

            verifier_add_check (s->report, "counter-signature", IMZALA_CHECK_FAILED, message);
          }
          break;
        case IMZALA_VALIDATION_INDETERMINATE:
        default:
          {
            g_autofree char *message = g_strdup_printf (_("A counter-signature could not be "
                                                          "validated: %s"), counter->reason);

            verifier_add_check (s->report, "counter-signature", IMZALA_CHECK_INDETERMINATE, message);
          }
          break;
        }
    }
}

