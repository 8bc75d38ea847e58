/* test-secret.c: the PIN buffer. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "imzala-test.h"

static void
assert_contents (ImzalaSecret *secret, const char *expected)
{
  g_assert_cmpmem (imzala_secret_get_data (secret), imzala_secret_get_length (secret),
                   expected, strlen (expected));
}

static void
test_append_backspace_clear (void)
{
  g_autoptr(ImzalaSecret) secret = imzala_secret_new ();
  const guint8 *data = imzala_secret_get_data (secret);

  g_assert_cmpuint (imzala_secret_get_length (secret), ==, 0);
  imzala_secret_backspace (secret);
  g_assert_cmpuint (imzala_secret_get_length (secret), ==, 0);

  g_assert_true (imzala_secret_append (secret, "12", -1));
  g_assert_true (imzala_secret_append (secret, "3456789", 2));
  assert_contents (secret, "1234");
  g_assert_true (imzala_secret_is_digits (secret));

  imzala_secret_backspace (secret);
  assert_contents (secret, "123");

  /* A backspace removes a whole UTF-8 character. */
  g_assert_true (imzala_secret_append (secret, "ş", -1));
  g_assert_cmpuint (imzala_secret_get_length (secret), ==, 5);
  g_assert_false (imzala_secret_is_digits (secret));
  imzala_secret_backspace (secret);
  assert_contents (secret, "123");
  g_assert_true (imzala_secret_append (secret, "€", -1));
  imzala_secret_backspace (secret);
  assert_contents (secret, "123");

  /* Clear wipes the bytes, not just the length. */
  imzala_secret_clear (secret);
  g_assert_cmpuint (imzala_secret_get_length (secret), ==, 0);
  for (gsize i = 0; i < IMZALA_SECRET_MAX_LENGTH; i++)
    g_assert_cmpuint (data[i], ==, 0);
}

static void
test_length_limit (void)
{
  g_autoptr(ImzalaSecret) secret = imzala_secret_new ();
  char max[IMZALA_SECRET_MAX_LENGTH + 2];

  memset (max, '7', IMZALA_SECRET_MAX_LENGTH);
  max[IMZALA_SECRET_MAX_LENGTH] = '\0';

  g_assert_true (imzala_secret_append (secret, max, -1));
  g_assert_cmpuint (imzala_secret_get_length (secret), ==, IMZALA_SECRET_MAX_LENGTH);
  /* Full: nothing more goes in, and what is there stays. */
  g_assert_false (imzala_secret_append (secret, "1", -1));
  g_assert_cmpuint (imzala_secret_get_length (secret), ==, IMZALA_SECRET_MAX_LENGTH);

  imzala_secret_clear (secret);
  g_assert_true (imzala_secret_append (secret, "1234", -1));
  /* All or nothing: a paste that does not fit is refused whole. */
  g_assert_false (imzala_secret_append (secret, max, -1));
  assert_contents (secret, "1234");
}

static void
test_equal (void)
{
  g_autoptr(ImzalaSecret) a = imzala_test_secret ("123456");
  g_autoptr(ImzalaSecret) b = imzala_secret_new_from_data ((const guint8 *) "123456", 6);
  g_autoptr(ImzalaSecret) c = imzala_test_secret ("123457");
  g_autoptr(ImzalaSecret) d = imzala_test_secret ("12345");
  g_autoptr(ImzalaSecret) empty1 = imzala_secret_new ();
  g_autoptr(ImzalaSecret) empty2 = imzala_secret_new ();

  g_assert_true (imzala_secret_equal (a, b));
  g_assert_false (imzala_secret_equal (a, c));
  g_assert_false (imzala_secret_equal (a, d));
  g_assert_false (imzala_secret_equal (d, a));
  g_assert_true (imzala_secret_equal (empty1, empty2));
  g_assert_false (imzala_secret_equal (empty1, a));
}

static void
test_ref (void)
{
  ImzalaSecret *secret = imzala_test_secret ("0000");
  ImzalaSecret *second = imzala_secret_ref (secret);

  g_assert_true (second == secret);
  imzala_secret_unref (secret);
  assert_contents (second, "0000");
  imzala_secret_unref (second);
  imzala_secret_unref (NULL);
}

static ImzalaSecret *
read_from_pipe (const char *written, gssize length, char **rest, GError **error)
{
  int fds[2];
  ImzalaSecret *secret;
  char buffer[256];
  ssize_t n;

  g_assert_cmpint (pipe (fds), ==, 0);
  if (length < 0)
    length = strlen (written);
  g_assert_cmpint (write (fds[1], written, length), ==, length);
  close (fds[1]);

  secret = imzala_secret_read_fd (fds[0], error);

  /* Nothing after the newline was consumed. */
  n = read (fds[0], buffer, sizeof buffer - 1);
  g_assert_cmpint (n, >=, 0);
  buffer[n] = '\0';
  if (rest != NULL)
    *rest = g_strdup (buffer);
  close (fds[0]);
  return secret;
}

static void
test_read_fd (void)
{
  g_autoptr(GError) error = NULL;
  char long_line[IMZALA_SECRET_MAX_LENGTH + 3];

  {
    g_autofree char *rest = NULL;
    g_autoptr(ImzalaSecret) secret = read_from_pipe ("123456\n654321\n", -1, &rest, &error);
    g_assert_no_error (error);
    assert_contents (secret, "123456");
    g_assert_cmpstr (rest, ==, "654321\n");
  }
  {
    g_autoptr(ImzalaSecret) secret = read_from_pipe ("123456\r\n", -1, NULL, &error);
    g_assert_no_error (error);
    assert_contents (secret, "123456");
  }
  {
    /* The end of the file ends the line too. */
    g_autoptr(ImzalaSecret) secret = read_from_pipe ("9876", -1, NULL, &error);
    g_assert_no_error (error);
    assert_contents (secret, "9876");
  }
  {
    g_autoptr(ImzalaSecret) secret = read_from_pipe ("\n", -1, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (imzala_secret_get_length (secret), ==, 0);
  }
  {
    /* Exactly the maximum fits. */
    g_autoptr(ImzalaSecret) secret = NULL;

    memset (long_line, '5', IMZALA_SECRET_MAX_LENGTH);
    long_line[IMZALA_SECRET_MAX_LENGTH] = '\n';
    secret = read_from_pipe (long_line, IMZALA_SECRET_MAX_LENGTH + 1, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (imzala_secret_get_length (secret), ==, IMZALA_SECRET_MAX_LENGTH);
  }
  {
    /* One more does not. */
    g_autoptr(ImzalaSecret) secret = NULL;

    memset (long_line, '5', IMZALA_SECRET_MAX_LENGTH + 1);
    long_line[IMZALA_SECRET_MAX_LENGTH + 1] = '\n';
    secret = read_from_pipe (long_line, IMZALA_SECRET_MAX_LENGTH + 2, NULL, &error);
    g_assert_null (secret);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE);
    /* The message is for the user: it never contains the digits. */
    g_assert_null (strstr (error->message, "5555"));
    g_clear_error (&error);
  }
  {
    g_autoptr(ImzalaSecret) secret = imzala_secret_read_fd (-1, &error);
    g_assert_null (secret);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/secret/append-backspace-clear", test_append_backspace_clear);
  g_test_add_func ("/secret/length-limit", test_length_limit);
  g_test_add_func ("/secret/equal", test_equal);
  g_test_add_func ("/secret/ref", test_ref);
  g_test_add_func ("/secret/read-fd", test_read_fd);
  return g_test_run ();
}
