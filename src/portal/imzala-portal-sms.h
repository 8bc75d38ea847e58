/* imzala-portal-sms.h: the one-time codes of the unblock page's second
 * factor, and the demo portal's stand-in for an SMS gateway.
 *
 * A code is six random digits, bound to the browser session and the
 * person that asked, valid for IMZALA_PORTAL_SMS_LIFETIME seconds and for
 * IMZALA_PORTAL_SMS_TRIES tries. A real portal hands the text to its SMS
 * gateway; the demo portal writes it to its log (the phone masked) and
 * keeps the last few messages for the page /demo/sms. Codes live in
 * memory only: a restart forgets them, and the person asks again.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define IMZALA_PORTAL_SMS_LIFETIME 300
#define IMZALA_PORTAL_SMS_TRIES    3
#define IMZALA_PORTAL_SMS_OUTBOX   20

typedef enum
{
  IMZALA_PORTAL_SMS_OK,
  IMZALA_PORTAL_SMS_WRONG,     /* wrong code; tries are left */
  IMZALA_PORTAL_SMS_NONE,      /* no live code: none sent, expired, used or out of tries */
} ImzalaPortalSmsResult;

#define IMZALA_TYPE_PORTAL_SMS (imzala_portal_sms_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalSms, imzala_portal_sms, IMZALA, PORTAL_SMS, GObject)

ImzalaPortalSms       *imzala_portal_sms_new        (void);
/* Makes a code for @session_hash and @tckn (replacing one sent before)
 * and "sends" it to @phone. Returns the masked phone ("0532 *** ** 00"). */
char                  *imzala_portal_sms_send       (ImzalaPortalSms *self,
                                                     const char      *session_hash,
                                                     const char      *tckn,
                                                     const char      *phone,
                                                     gint64           now);
/* Checks @code (a successful check uses the code up). */
ImzalaPortalSmsResult  imzala_portal_sms_check      (ImzalaPortalSms *self,
                                                     const char      *session_hash,
                                                     const char      *tckn,
                                                     const char      *code,
                                                     gint64           now);
/* The last messages sent, oldest first: "<masked phone>\t<text>". */
GPtrArray             *imzala_portal_sms_get_outbox (ImzalaPortalSms *self);
/* "0532 *** ** 00" */
char                  *imzala_portal_sms_mask_phone (const char      *phone);

G_END_DECLS
