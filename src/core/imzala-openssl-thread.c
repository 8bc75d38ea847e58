#include "config.h"

#include <openssl/crypto.h>

#include "imzala-openssl-thread.h"

static GQuark
task_func_quark (void)
{
  return g_quark_from_static_string ("imzala-openssl-thread-func");
}

static void
openssl_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GTaskThreadFunc task_func = g_object_get_qdata (G_OBJECT (task), task_func_quark ());

  task_func (task, source_object, task_data, cancellable);
  OPENSSL_thread_stop ();
}

void
imzala_task_run_in_openssl_thread (GTask           *task,
                                   GTaskThreadFunc  task_func)
{
  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (task_func != NULL);

  g_object_set_qdata (G_OBJECT (task), task_func_quark (), task_func);
  g_task_run_in_thread (task, openssl_thread);
}
