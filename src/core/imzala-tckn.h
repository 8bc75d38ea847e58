/* imzala-tckn.h: the Turkish national identity number (T.C. kimlik no). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE for 11 ASCII digits, first not 0, whose 10th and 11th digits are the
 * two check digits of the first nine and ten. */
gboolean imzala_tckn_is_valid (const char *text);

/* Makes the two check digits for nine leading digits; for test data and the
 * portal's demo enrolment. Returns a newly allocated 11-digit string, or NULL
 * if @first_nine is not nine digits with a non-zero first digit. */
char    *imzala_tckn_complete (const char *first_nine);

G_END_DECLS
