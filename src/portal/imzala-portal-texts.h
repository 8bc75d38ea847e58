/* imzala-portal-texts.h: the texts the portal asks people to sign.
 *
 * The sentences come from the old portal's user guide; each text ends with
 * the reference line that binds it to one request (docs/protocol.md §4.1).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define IMZALA_PORTAL_LOGIN_TEXT \
  "Kullanıcı servislerine elektronik imzalı olarak girme işlemi onaylıyorum."

/* "\n\nİşlem: <portal> / <ABCD-EFGH-JKMN> / <created_at>" */
char   *imzala_portal_texts_reference_line (const char *portal,
                                            const char *code,
                                            gint64      created_at);
/* @body followed by the reference line, as the bytes to sign. */
GBytes *imzala_portal_texts_bind           (const char *body,
                                            const char *portal,
                                            const char *code,
                                            gint64      created_at);
/* The e-onay sentence for "accept" or "reject". */
const char *imzala_portal_texts_consent    (gboolean accept);
/* The Sertifika Sahibi Taahhütnamesi of @name / @tckn. */
char   *imzala_portal_texts_undertaking    (const char *name,
                                            const char *tckn);
/* "123******90": what a page or İmzala shows of a T.C. kimlik no. */
char   *imzala_portal_texts_tckn_hint      (const char *tckn);
/* Whether @text (UTF-8) may stand as one line of a text someone signs:
 * no control (Cc), format (Cf), line or paragraph separator (Zl, Zp),
 * surrogate, unassigned or private-use character. Every form field and
 * enrolment value goes through it. */
gboolean imzala_portal_texts_is_one_line (const char *text);
/* What the audit log keeps of a card serial: "serial-sha256:<16 hex>",
 * enough to tell two cards apart, not the serial itself. */
char   *imzala_portal_texts_serial_tag     (const char *serial);
/* RFC 3339 UTC with Z, whole seconds. */
char   *imzala_portal_texts_format_time    (gint64 unix_time);

G_END_DECLS
