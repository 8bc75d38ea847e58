#define G_LOG_DOMAIN "imzala-core"

#include "config.h"

#include "imzala-error.h"

G_DEFINE_QUARK (imzala-error-quark, imzala_error)

const char *
imzala_error_code_to_string (ImzalaError code)
{
  static const char *const names[] = {
    [IMZALA_ERROR_FAILED] = "failed",
    [IMZALA_ERROR_NO_MODULE] = "no-module",
    [IMZALA_ERROR_MODULE_LOAD] = "module-load",
    [IMZALA_ERROR_MODULE_FAILURE] = "module-failure",
    [IMZALA_ERROR_NO_TOKEN] = "no-token",
    [IMZALA_ERROR_TOKEN_REMOVED] = "token-removed",
    [IMZALA_ERROR_NO_CERTIFICATE] = "no-certificate",
    [IMZALA_ERROR_AMBIGUOUS_CERTIFICATE] = "ambiguous-certificate",
    [IMZALA_ERROR_NO_PRIVATE_KEY] = "no-private-key",
    [IMZALA_ERROR_UNSUPPORTED_KEY] = "unsupported-key",
    [IMZALA_ERROR_PIN_INCORRECT] = "pin-incorrect",
    [IMZALA_ERROR_PIN_LOCKED] = "pin-locked",
    [IMZALA_ERROR_PIN_LEN_RANGE] = "pin-length",
    [IMZALA_ERROR_PIN_INVALID] = "pin-invalid",
    [IMZALA_ERROR_PIN_MISMATCH] = "pin-mismatch",
    [IMZALA_ERROR_PUK_INCORRECT] = "puk-incorrect",
    [IMZALA_ERROR_PUK_LOCKED] = "puk-locked",
    [IMZALA_ERROR_CERTIFICATE_INVALID] = "certificate-invalid",
    [IMZALA_ERROR_CMS_INVALID] = "cms-invalid",
    [IMZALA_ERROR_SIGNATURE_INVALID] = "signature-invalid",
    [IMZALA_ERROR_CONTENT_MISMATCH] = "content-mismatch",
    [IMZALA_ERROR_UNTRUSTED] = "untrusted",
    [IMZALA_ERROR_CERTIFICATE_EXPIRED] = "certificate-expired",
    [IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH] = "signing-certificate-mismatch",
    [IMZALA_ERROR_CODE_FORMAT] = "code-format",
    [IMZALA_ERROR_CODE_UNKNOWN] = "code-unknown",
    [IMZALA_ERROR_CODE_EXPIRED] = "code-expired",
    [IMZALA_ERROR_CODE_USED] = "code-used",
    [IMZALA_ERROR_SIGNER_MISMATCH] = "signer-mismatch",
    [IMZALA_ERROR_RATE_LIMITED] = "rate-limited",
    [IMZALA_ERROR_PORTAL_REJECTED] = "portal-rejected",
    [IMZALA_ERROR_INSECURE_URL] = "insecure-url",
    [IMZALA_ERROR_NETWORK] = "network",
    [IMZALA_ERROR_TLS] = "tls",
    [IMZALA_ERROR_PROTOCOL] = "protocol",
    [IMZALA_ERROR_TOO_LARGE] = "too-large",
    [IMZALA_ERROR_PCSC_UNAVAILABLE] = "pcsc-unavailable",
    [IMZALA_ERROR_PIN_EXPIRED] = "pin-expired",
    [IMZALA_ERROR_PIN_NOT_INITIALIZED] = "pin-not-initialized",
    [IMZALA_ERROR_PIN_REQUIRED] = "pin-required",
    [IMZALA_ERROR_PUK_REQUIRED] = "puk-required",
    [IMZALA_ERROR_SEVERAL_TOKENS] = "several-tokens",
    [IMZALA_ERROR_CONTENT_TOO_LARGE] = "content-too-large",
    [IMZALA_ERROR_TOKEN_NOT_RECOGNIZED] = "token-not-recognized",
    [IMZALA_ERROR_PIN_PAD_TIMEOUT] = "pin-pad-timeout",
    [IMZALA_ERROR_CERTIFICATE_REVOKED] = "certificate-revoked",
    [IMZALA_ERROR_STATUS_UNKNOWN] = "status-unknown",
    [IMZALA_ERROR_PIN_NOT_LOCKED] = "pin-not-locked",
    [IMZALA_ERROR_PUK_FINAL_TRY] = "puk-final-try",
    [IMZALA_ERROR_TIMESTAMP] = "timestamp",
  };

  if ((guint) code < G_N_ELEMENTS (names) && names[code] != NULL)
    return names[code];
  return "failed";
}
