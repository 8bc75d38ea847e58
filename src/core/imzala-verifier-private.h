/* imzala-verifier-private.h: what the verifier's files share.
 *
 * imzala-verifier.c reads the signature and checks each signer;
 * imzala-verifier-chain.c builds the chains, checks the certificates'
 * status and the CAdES-C references; imzala-verifier-counter.c checks the
 * counter-signatures; imzala-verifier-time.c the time-stamps, the
 * signingTime and CAdES-X; imzala-verifier-report.c makes and names the
 * reports; imzala-verifier-stream.c reads the content as a stream. Nothing
 * here is API.
 */
#pragma once

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "imzala-cades-asn1.h"
#include "imzala-timestamp.h"
#include "imzala-verifier.h"

G_BEGIN_DECLS

/* A signature read into memory larger than this is refused before it
 * reaches the ASN.1 parser (as in imzala-cms-verify.c). The streaming
 * reader (imzala-verifier-stream.c) holds only what is around the content
 * and never meets it for a DER signature. */
#define VERIFIER_MAX_CMS_SIZE (96 * 1024 * 1024)

/* How many missing issuers a chain may fetch from AIA caIssuers URLs. */
#define MAX_AIA_ROUNDS 4

/* A minimal DER reader for a counter-signature's SignerIdentifier, which
 * OpenSSL 3.0 does not parse on its own. The CAdES-C/X-L structures are
 * read with the templates of imzala-cades-asn1.h, as the maker writes
 * them. */
typedef struct
{
  const unsigned char *p;
  long                 remaining;
} Der;

typedef struct
{
  int                  tag;
  int                  klass;
  const unsigned char *whole;     /* from the tag */
  long                 whole_length;
  Der                  content;
} DerItem;

typedef struct
{
  ImzalaTrust     *trust;
  CMS_ContentInfo *cms;
  /* The content's hash under each algorithm the signers and the content
   * time-stamps use (EVP_MD type NID → GBytes): the content itself is
   * hashed once, as a stream, and never held (imzala-verifier-stream.c). */
  GHashTable      *content_digests;
  STACK_OF (X509) *cms_certs;
  GPtrArray       *cms_crls;   /* DER CRLs of the SignedData crls field */
  GCancellable    *cancellable;
} Context;

typedef struct
{
  ImzalaSignerReport *report;
  CMS_SignerInfo     *si;
  X509               *signer;      /* owned */
  const EVP_MD       *md;
  STACK_OF (X509)    *untrusted;   /* the CMS's, the certificate-values, fetched */
  GPtrArray          *evidence;    /* DER OCSP responses and CRLs */
  GPtrArray          *cert_values; /* DER certificates of certificate-values */
  GPtrArray          *crl_values;  /* DER CRLs of revocation-values */
  GPtrArray          *ocsp_values; /* DER BasicOCSPResponses of revocation-values */
  STACK_OF (X509)    *chain;
  gboolean            has_signed_attributes;
} Signer;

void
verifier_add_check (ImzalaSignerReport *report, const char *name, ImzalaCheckResult result,
           const char *message);

/* Whether a signatureAlgorithm fits the signer's @key and the
 * digestAlgorithm's @md (imzala-verifier.c); the failed check it makes. */
gboolean verifier_signature_algorithm_fits   (int signature_nid, EVP_PKEY *key, const EVP_MD *md);
void     verifier_signature_algorithm_failed (ImzalaSignerReport *report);

GPtrArray *
verifier_attribute_values (CMS_SignerInfo *si, int nid, gboolean signed_attribute);

void
verifier_check_free (ImzalaCheck *check);

GDateTime *
verifier_date_time_from_asn1 (const ASN1_TIME *time);

gboolean
verifier_der_next (Der *der, DerItem *item);

Der
verifier_der_of_bytes (GBytes *bytes);

char *
verifier_format_time (GDateTime *time);

void
verifier_log_openssl_errors (const char *what);

gboolean
verifier_other_hash_matches (const IMZALA_OTHER_HASH *hash, const unsigned char *data, gsize size);

void
verifier_push_x509 (STACK_OF (X509) *stack, X509 *x509);

void
verifier_signer_clear (Signer *s);

void
verifier_signer_report_free (ImzalaSignerReport *report);

GBytes *
verifier_x509_der (X509 *x509);

void
verifier_check_references (Context *ctx, Signer *s);

void
verifier_verify_chain_and_status (Context *ctx, Signer *s, GDateTime *when, gboolean proven);

gboolean
verifier_check_tsa_status (Context *ctx, Signer *s, const char *name, ImzalaTimestamp *stamp);

void
verifier_check_counter_signatures (Context *ctx, Signer *s, GDateTime *when, gboolean proven);

/* imzala-verifier-time.c: the content and signature time-stamps (and the
 * signingTime against them), then the CAdES-X time-stamps. */
void
verifier_check_timestamps (Context *ctx, Signer *s);

void
verifier_check_esc_time_stamps (Context *ctx, Signer *s);

/* The content's hash under @md, as hashed once for the whole signature;
 * NULL when it was not hashed with @md. */
GBytes *
verifier_content_digest (Context *ctx, const EVP_MD *md);

/* imzala-verifier-parse.c: @input (DER or PEM) as a CMS, the
 * certificates @trust holds (nullable) taken from it, not parsed again. */
CMS_ContentInfo *
verifier_parse_cms (GBytes *input, ImzalaTrust *trust);

gboolean
verifier_check_cms_kind (CMS_ContentInfo *cms, GError **error);

GPtrArray *
verifier_content_mds (CMS_ContentInfo *cms);

GHashTable *
verifier_content_digests_of_data (GPtrArray *mds, const guint8 *data, gsize size);

ImzalaVerification *
verifier_verify_cms (CMS_ContentInfo *cms,
                     GHashTable      *digests,
                     gboolean         content_inside,
                     ImzalaTrust     *trust,
                     GCancellable    *cancellable);

G_END_DECLS
