/* imzala-verifier.h: validating real signatures, as ETSI EN 319 102-1 says.
 *
 * One CMS SignedData, any number of signers (parallel signers and
 * counter-signatures each validated), from any signing software: with or without signingTime,
 * with or without the signer's certificate inside (then it comes from the
 * trust or the AIA), CAdES-BES/EPES/T/C/X-L. Each signer is validated at
 * the time the evidence proves (its signature time-stamp, else now): the
 * signature, the content, the signed attributes, the time-stamps with
 * their TSAs' chains, the chain to the trust, every certificate's status
 * (embedded OCSP/CRL first, then fetched unless offline) and the CAdES-C
 * references against the X-L values. The answer is a report: valid,
 * invalid or indeterminate, with a reason and every check made.
 *
 * Blocking work (fetches) happens in imzala_verifier_verify(); the GUI uses
 * imzala_verifier_verify_async(). No GTK, no PKCS#11.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-cert-status.h"
#include "imzala-certificate.h"
#include "imzala-trust.h"

G_BEGIN_DECLS

/* A claimed signingTime may be this much later than the time its signature
 * time-stamp proves (clocks differ); later than that, the claim is false
 * and the signer invalid. */
#define IMZALA_VERIFIER_SIGNING_TIME_TOLERANCE (5 * 60)

typedef enum
{
  IMZALA_VALIDATION_VALID,
  IMZALA_VALIDATION_INVALID,
  IMZALA_VALIDATION_INDETERMINATE,
} ImzalaValidation;

typedef enum
{
  IMZALA_SIGNATURE_LEVEL_CMS, /* plain CMS: no signing-certificate attribute */
  IMZALA_SIGNATURE_LEVEL_BES,
  IMZALA_SIGNATURE_LEVEL_EPES,
  IMZALA_SIGNATURE_LEVEL_T,
  IMZALA_SIGNATURE_LEVEL_C,
  IMZALA_SIGNATURE_LEVEL_X,   /* C with a valid escTimeStamp (CAdES-X type 1) */
  IMZALA_SIGNATURE_LEVEL_XL,
} ImzalaSignatureLevel;

typedef enum
{
  IMZALA_CHECK_PASSED,
  IMZALA_CHECK_FAILED,        /* makes the signer invalid */
  IMZALA_CHECK_INDETERMINATE, /* makes the signer indeterminate */
  IMZALA_CHECK_SKIPPED,       /* nothing to check (said why) */
} ImzalaCheckResult;

typedef struct
{
  char              *name;    /* stable id: "signature", "chain", "revocation", ... */
  ImzalaCheckResult  result;
  char              *message; /* translated sentence */
} ImzalaCheck;

typedef struct
{
  ImzalaValidation      status;
  char                 *reason;          /* translated sentence */
  ImzalaSignatureLevel  level;
  ImzalaCertificate    *certificate;     /* nullable: not found */
  GPtrArray            *chain;           /* ImzalaCertificate, signer first */
  gboolean              qualified;       /* QcCompliance AND the BTK statement */
  GDateTime            *signing_time;    /* claimed (signingTime), nullable */
  GDateTime            *timestamp_time;  /* proven (signature-time-stamp), nullable */
  GDateTime            *content_timestamp_time; /* nullable */
  GDateTime            *validation_time; /* the time everything was checked at */
  char                 *digest;          /* "SHA256", ... */
  ImzalaCertStatus     *cert_status;     /* the signer certificate's, nullable */
  GPtrArray            *checks;          /* ImzalaCheck */
  /* Counter-signatures (pkcs9 countersignature over this signature's
   * value), each validated like a signer; nullable when there are none. */
  GPtrArray            *counter_signers; /* ImzalaSignerReport */
} ImzalaSignerReport;

typedef struct
{
  ImzalaValidation  status;
  char             *reason;
  ImzalaSignatureLevel level;   /* the lowest of the signers' */
  gboolean          qualified;  /* every signer's certificate is */
  gboolean          detached;
  GBytes           *content;    /* imzala_verifier_verify() only; NULL when streamed */
  GPtrArray        *signers;    /* ImzalaSignerReport */
  guint64           content_length; /* the bytes of content checked */
} ImzalaVerification;

void imzala_verification_free (ImzalaVerification *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaVerification, imzala_verification_free)

const char *imzala_validation_to_string      (ImzalaValidation     status);  /* "valid", ... */
const char *imzala_signature_level_to_string (ImzalaSignatureLevel level);   /* "BES", "X-L", ... */
const char *imzala_check_result_to_string    (ImzalaCheckResult    result);  /* "passed", ... */

/* Turkish rule for "qualified": QcCompliance and a BTK QC statement. */
gboolean imzala_verifier_is_qualified (X509 *x509);

/* Verifies @cms (DER or PEM) against @detached_content (for a detached
 * signature; must equal the content of an attached one). Fails only when
 * @cms is not a SignedData at all, or when a detached signature comes
 * without its content; everything else is in the report. */
ImzalaVerification *imzala_verifier_verify        (GBytes        *cms,
                                                   GBytes        *detached_content,
                                                   ImzalaTrust   *trust,
                                                   GCancellable  *cancellable,
                                                   GError       **error);
void                imzala_verifier_verify_async  (GBytes              *cms,
                                                   GBytes              *detached_content,
                                                   ImzalaTrust         *trust,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
ImzalaVerification *imzala_verifier_verify_finish (GAsyncResult  *result,
                                                   GError       **error);

/* ---- Big files: the content as a stream (imzala-verifier-stream.c) ---- */

/* Progress of the hashing: @done of @total bytes of content (@total 0 when
 * not known). */
typedef void (*ImzalaVerifierProgressFunc) (guint64  done,
                                            guint64  total,
                                            gpointer user_data);

/* imzala_verifier_verify() without ever holding the content: the signature
 * is read from @signature (DER or PEM), the CMS parsed first, then the
 * content hashed once, in chunks, with every hash the signers and the
 * content time-stamps need. The content comes from @content (nullable:
 * for a detached signature; for an attached one it must be NULL), or, for
 * an attached DER signature, from @signature itself: the eContent octets
 * are hashed where they are (a seekable @signature is read twice, around
 * the content and then the content; another is hashed with SHA-256, -384
 * and -512 as it passes) and never copied, so a signature of any size
 * costs the same memory. A BER (indefinite length or constructed
 * eContent) or PEM signature is read into memory, up to 96 MiB.
 * @content_size (0: unknown) is only for @progress (nullable), called on
 * the calling thread. Blocking. */
ImzalaVerification *imzala_verifier_verify_stream (GInputStream               *signature,
                                                   GInputStream               *content,
                                                   guint64                     content_size,
                                                   ImzalaTrust                *trust,
                                                   ImzalaVerifierProgressFunc  progress,
                                                   gpointer                    progress_data,
                                                   GCancellable               *cancellable,
                                                   GError                    **error);

/* imzala_verifier_verify_stream() for files, in a thread: for the window
 * (a big .imz or a detached .p7s with its content). @progress (nullable)
 * is called on the caller's thread-default main context, at most once per
 * percent; @progress_data_free (nullable) frees @progress_data when the
 * task is done. */
void                imzala_verifier_verify_file_async  (GFile                      *signature,
                                                        GFile                      *content,
                                                        ImzalaTrust                *trust,
                                                        ImzalaVerifierProgressFunc  progress,
                                                        gpointer                    progress_data,
                                                        GDestroyNotify              progress_data_free,
                                                        GCancellable               *cancellable,
                                                        GAsyncReadyCallback         callback,
                                                        gpointer                    user_data);
ImzalaVerification *imzala_verifier_verify_file_finish (GAsyncResult               *result,
                                                        GError                    **error);

G_END_DECLS
