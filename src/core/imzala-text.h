/* imzala-text.h: strings from cards, modules, certificates and portals made
 * safe to show as one line of plain text. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @text with every character that is not shown as itself written as an
 * escape instead (\x1b, \u202e): C0 and C1 controls but the tab, and DEL
 * (escape sequences, carriage returns, line feeds), and Unicode format,
 * line and paragraph separator characters (Cf, Zl, Zp: bidi overrides and
 * marks, U+200B, U+FEFF, U+2028), so that such a string cannot rewrite,
 * hide or add a line of a report or a terminal. Invalid UTF-8 bytes are
 * escaped as \xNN. Returns NULL for NULL. */
char *imzala_text_escape_unshown (const char *text);

G_END_DECLS
