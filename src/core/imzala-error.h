/* imzala-error.h: the one error domain of libimzala-core.
 *
 * Every GError that leaves the core is in IMZALA_ERROR (or G_IO_ERROR_CANCELLED
 * for cancellation) and its message is a complete, translated sentence that can
 * be shown to the user as it is. Technical detail (CKR_* names, OpenSSL error
 * strings, HTTP status) is logged with g_debug() and never put in the message.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define IMZALA_ERROR (imzala_error_quark ())

typedef enum
{
  IMZALA_ERROR_FAILED,

  /* Modules and tokens. */
  IMZALA_ERROR_NO_MODULE,           /* no PKCS#11 module could be loaded at all */
  IMZALA_ERROR_MODULE_LOAD,         /* this one module could not be loaded */
  IMZALA_ERROR_MODULE_FAILURE,      /* the module failed inside (CKR_GENERAL_ERROR, ...) */
  IMZALA_ERROR_NO_TOKEN,            /* no card / token present */
  IMZALA_ERROR_TOKEN_REMOVED,       /* the card went away during the operation */
  IMZALA_ERROR_NO_CERTIFICATE,      /* nothing matches the selector / no certificate at all */
  IMZALA_ERROR_AMBIGUOUS_CERTIFICATE, /* more than one could be meant; the user must choose */
  IMZALA_ERROR_NO_PRIVATE_KEY,      /* the certificate has no key on the token */
  IMZALA_ERROR_UNSUPPORTED_KEY,     /* key type or mechanism the token or İmzala cannot use */

  /* PIN and PUK. The message of PIN_INCORRECT says how many tries are left
   * when the token tells (count low, final try). */
  IMZALA_ERROR_PIN_INCORRECT,
  IMZALA_ERROR_PIN_LOCKED,
  IMZALA_ERROR_PIN_LEN_RANGE,       /* too short or too long for this card */
  IMZALA_ERROR_PIN_INVALID,         /* characters the card does not accept */
  IMZALA_ERROR_PIN_MISMATCH,        /* the two new PINs differ */
  IMZALA_ERROR_PUK_INCORRECT,
  IMZALA_ERROR_PUK_LOCKED,

  /* Certificates, CMS and verification. */
  IMZALA_ERROR_CERTIFICATE_INVALID, /* cannot be parsed */
  IMZALA_ERROR_CMS_INVALID,         /* not a CMS SignedData we can read */
  IMZALA_ERROR_SIGNATURE_INVALID,   /* the signature does not verify */
  IMZALA_ERROR_CONTENT_MISMATCH,    /* messageDigest does not match the content */
  IMZALA_ERROR_UNTRUSTED,           /* no chain to the trusted CAs */
  IMZALA_ERROR_CERTIFICATE_EXPIRED, /* not valid at signing time */
  IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH, /* ESS signing-certificate-v2 missing or wrong */

  /* Portal protocol (issue 3). */
  IMZALA_ERROR_CODE_FORMAT,         /* not a well-formed doğrulama kodu; nothing was sent */
  IMZALA_ERROR_CODE_UNKNOWN,
  IMZALA_ERROR_CODE_EXPIRED,
  IMZALA_ERROR_CODE_USED,
  IMZALA_ERROR_SIGNER_MISMATCH,     /* the card's holder is not the requester */
  IMZALA_ERROR_RATE_LIMITED,
  IMZALA_ERROR_PORTAL_REJECTED,     /* the portal refused the signature; message says why */
  IMZALA_ERROR_INSECURE_URL,        /* not https:// */
  IMZALA_ERROR_NETWORK,
  IMZALA_ERROR_TLS,                 /* the portal's certificate is not trusted */
  IMZALA_ERROR_PROTOCOL,            /* the portal answered something we cannot accept */
  IMZALA_ERROR_TOO_LARGE,           /* the portal's answer, or what we sent it, is too large */

  /* PC/SC. */
  IMZALA_ERROR_PCSC_UNAVAILABLE,    /* pcscd is not running */

  /* Added by issue 7, at the end so that the numbers of the older codes stay
   * what they were. Each condition has its own code: the JSON "code", the
   * CLI's exit status and the GUI's advice are chosen from it. */
  IMZALA_ERROR_PIN_EXPIRED,         /* CKR_PIN_EXPIRED: the card wants a new PIN first */
  IMZALA_ERROR_PIN_NOT_INITIALIZED, /* CKR_USER_PIN_NOT_INITIALIZED: no PIN set yet (set one with the PUK) */
  IMZALA_ERROR_PIN_REQUIRED,        /* no PIN was given where one is needed */
  IMZALA_ERROR_PUK_REQUIRED,        /* no PUK was given where one is needed */
  IMZALA_ERROR_SEVERAL_TOKENS,      /* several cards are inserted; the user must name one */
  IMZALA_ERROR_CONTENT_TOO_LARGE,   /* the content to sign is larger than İmzala signs */

  /* Added by issue 8 (true causes). */
  IMZALA_ERROR_TOKEN_NOT_RECOGNIZED, /* a card is in a reader, but no module knows it */

  /* Added by issue 8 (PIN care). */
  IMZALA_ERROR_PIN_PAD_TIMEOUT,     /* the reader stopped waiting for the PIN (not cancelled in İmzala) */

  /* Added by issue 10 (certificate status and the verifier). */
  IMZALA_ERROR_CERTIFICATE_REVOKED, /* OCSP or a CRL says the certificate was revoked */
  IMZALA_ERROR_STATUS_UNKNOWN,      /* the certificate's status could not be established */
  /* Added by issue 11 (unblock). */
  IMZALA_ERROR_PIN_NOT_LOCKED,      /* an unblock for a card whose PIN is not locked: nothing done */
  IMZALA_ERROR_PUK_FINAL_TRY,       /* the last PUK try, not confirmed by the user: nothing tried */

  /* Added by issue 10 (making T / XL signatures). */
  IMZALA_ERROR_TIMESTAMP,           /* the time-stamp authority failed or gave a token we refuse */
} ImzalaError;

GQuark imzala_error_quark (void);

/* The symbolic name of a code ("pin-incorrect"), for --json output and logs. */
const char *imzala_error_code_to_string (ImzalaError code);

G_END_DECLS
