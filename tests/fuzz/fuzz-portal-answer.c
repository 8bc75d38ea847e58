/* fuzz-portal-answer.c: libFuzzer harness for the client's reading of a
 * portal's answers (imzala-portal-answer.c): the request behind a code,
 * the status of a POST, the PUK of an unblock and an error body.
 *
 * A hostile portal chooses every byte of these answers. Each input is read
 * as all four; whatever is refused must be an IMZALA_ERROR with a message.
 * The host and code are those of the seeds (tests/fuzz/make-corpus.py), so
 * that a seed passes every check and mutations start from deep inside.
 */
#define G_LOG_DOMAIN "fuzz-portal-answer"

#include "config.h"

#include <stdint.h>

#include "imzala-error.h"
#include "imzala-portal-answer.h"

#define HOST "portal.example.org"
#define CODE "ABCDEFGHJKMN"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const guint statuses[] = { 400, 403, 404, 409, 410, 413, 422, 429, 500 };
  g_autoptr(GBytes) json = g_bytes_new (data, size);
  g_autoptr(GDateTime) date = g_date_time_new_utc (2026, 11, 26, 10, 1, 0);
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(ImzalaSecret) puk = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  request = imzala_portal_answer_parse_request (json, HOST, CODE, date, &error);
  g_assert ((request == NULL) == (error != NULL));
  g_clear_error (&error);

  message = imzala_portal_answer_parse_status (json, "accepted", "fallback", &error);
  g_assert (message != NULL ? g_utf8_validate (message, -1, NULL) : error != NULL);
  g_clear_error (&error);

  puk = imzala_portal_answer_parse_puk (json, &error);
  g_assert ((puk == NULL) == (error != NULL));
  g_clear_error (&error);

  error = imzala_portal_answer_parse_error (statuses[size % G_N_ELEMENTS (statuses)], json);
  g_assert (error != NULL && error->domain == IMZALA_ERROR);
  g_assert (g_utf8_validate (error->message, -1, NULL));
  return 0;
}
