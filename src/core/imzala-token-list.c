#define G_LOG_DOMAIN "imzala-token-list"

#include "config.h"

#include "imzala-token-list.h"

struct _ImzalaTokenList
{
  GObject          parent_instance;

  ImzalaModuleSet *module_set;
  GPtrArray       *tokens;       /* ImzalaToken */
  GError          *error;
  GCancellable    *cancellable;  /* the enumerations, cancelled at dispose */

  gboolean         loading;
  GPtrArray       *running;      /* GTask: served by the enumeration under way */
  GPtrArray       *queued;       /* GTask: asked during it, served by the next */
  gboolean         held;         /* the modules are still loading */
};

static void imzala_token_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ImzalaTokenList, imzala_token_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, imzala_token_list_model_init))

enum {
  PROP_0,
  PROP_MODULE_SET,
  PROP_LOADING,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- GListModel ---- */

static GType
imzala_token_list_get_item_type (GListModel *model)
{
  return IMZALA_TYPE_TOKEN;
}

static guint
imzala_token_list_get_n_items (GListModel *model)
{
  return IMZALA_TOKEN_LIST (model)->tokens->len;
}

static gpointer
imzala_token_list_get_item (GListModel *model,
                            guint       position)
{
  ImzalaTokenList *self = IMZALA_TOKEN_LIST (model);

  if (position >= self->tokens->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->tokens, position));
}

static void
imzala_token_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = imzala_token_list_get_item_type;
  iface->get_n_items = imzala_token_list_get_n_items;
  iface->get_item = imzala_token_list_get_item;
}

/* ---- Refreshing ---- */

static void enumerate (ImzalaTokenList *self);

static void
set_loading (ImzalaTokenList *self,
             gboolean         loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

/* Replaces the items and the error together, then tells: a reader that
 * looks at "error" in its items-changed handler sees the new one. */
static void
replace_tokens (ImzalaTokenList *self,
                GPtrArray       *tokens,
                GError          *error)
{
  guint removed = self->tokens->len;
  gboolean error_changed = self->error != NULL || error != NULL;

  g_clear_error (&self->error);
  self->error = error;
  g_ptr_array_set_size (self->tokens, 0);
  for (guint i = 0; tokens != NULL && i < tokens->len; i++)
    g_ptr_array_add (self->tokens, g_object_ref (g_ptr_array_index (tokens, i)));

  if (error_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, self->tokens->len);
}

static void
list_tokens_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(ImzalaTokenList) self = user_data;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GPtrArray) served = NULL;
  GError *error = NULL;

  tokens = imzala_module_set_list_tokens_finish (IMZALA_MODULE_SET (object), result, &error);
  served = g_steal_pointer (&self->running);

  /* Only dispose cancels an enumeration: nobody is left to tell. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_ptr_array_extend_and_steal (served, g_steal_pointer (&self->queued));
      self->queued = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < served->len; i++)
        g_task_return_error (g_ptr_array_index (served, i), g_error_copy (error));
      g_error_free (error);
      set_loading (self, FALSE);
      return;
    }
  if (error != NULL)
    g_debug ("Listing the tokens failed: %s", error->message);

  replace_tokens (self, tokens, error != NULL ? g_error_copy (error) : NULL);

  if (self->queued->len > 0)
    {
      /* Someone asked while this enumeration ran: the cards may have changed
       * since it started, so they get one more, together. */
      self->running = g_steal_pointer (&self->queued);
      self->queued = g_ptr_array_new_with_free_func (g_object_unref);
      enumerate (self);
    }
  else
    set_loading (self, FALSE);

  for (guint i = 0; i < served->len; i++)
    {
      GTask *task = g_ptr_array_index (served, i);

      if (g_task_return_error_if_cancelled (task))
        continue;
      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
    }
  g_clear_error (&error);
}

static void
enumerate (ImzalaTokenList *self)
{
  g_debug ("Enumerating the tokens");
  imzala_module_set_list_tokens_async (self->module_set, self->cancellable,
                                       list_tokens_cb, g_object_ref (self));
}

void
imzala_token_list_refresh_async (ImzalaTokenList     *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (IMZALA_IS_TOKEN_LIST (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_token_list_refresh_async);

  if (self->running != NULL)
    {
      g_ptr_array_add (self->queued, task);
      return;
    }

  /* The modules are still loading: the refresh waits for them, and the
   * list says it is loading meanwhile ("Kart okunuyor…"). */
  if (self->held)
    {
      g_ptr_array_add (self->queued, task);
      set_loading (self, TRUE);
      return;
    }

  self->running = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->running, task);
  set_loading (self, TRUE);
  enumerate (self);
}

void
imzala_token_list_hold (ImzalaTokenList *self)
{
  g_return_if_fail (IMZALA_IS_TOKEN_LIST (self));
  g_return_if_fail (self->running == NULL);

  self->held = TRUE;
}

void
imzala_token_list_release (ImzalaTokenList *self)
{
  g_return_if_fail (IMZALA_IS_TOKEN_LIST (self));

  if (!self->held)
    return;
  self->held = FALSE;
  if (self->queued->len == 0)
    return;
  self->running = g_steal_pointer (&self->queued);
  self->queued = g_ptr_array_new_with_free_func (g_object_unref);
  enumerate (self);
}

gboolean
imzala_token_list_refresh_finish (ImzalaTokenList  *self,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN_LIST (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
imzala_token_list_refresh (ImzalaTokenList *self)
{
  imzala_token_list_refresh_async (self, NULL, NULL, NULL);
}

/* ---- Getters ---- */

ImzalaModuleSet *
imzala_token_list_get_module_set (ImzalaTokenList *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN_LIST (self), NULL);

  return self->module_set;
}

gboolean
imzala_token_list_get_loading (ImzalaTokenList *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN_LIST (self), FALSE);

  return self->loading;
}

const GError *
imzala_token_list_get_error (ImzalaTokenList *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN_LIST (self), NULL);

  return self->error;
}

GPtrArray *
imzala_token_list_dup_tokens (ImzalaTokenList *self)
{
  GPtrArray *tokens;

  g_return_val_if_fail (IMZALA_IS_TOKEN_LIST (self), NULL);

  tokens = g_ptr_array_new_full (self->tokens->len, g_object_unref);
  for (guint i = 0; i < self->tokens->len; i++)
    g_ptr_array_add (tokens, g_object_ref (g_ptr_array_index (self->tokens, i)));
  return tokens;
}

/* ---- GObject ---- */

static void
imzala_token_list_dispose (GObject *object)
{
  ImzalaTokenList *self = IMZALA_TOKEN_LIST (object);

  g_cancellable_cancel (self->cancellable);

  G_OBJECT_CLASS (imzala_token_list_parent_class)->dispose (object);
}

static void
imzala_token_list_finalize (GObject *object)
{
  ImzalaTokenList *self = IMZALA_TOKEN_LIST (object);

  g_clear_object (&self->module_set);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  g_clear_error (&self->error);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->running, g_ptr_array_unref);
  g_clear_pointer (&self->queued, g_ptr_array_unref);

  G_OBJECT_CLASS (imzala_token_list_parent_class)->finalize (object);
}

static void
imzala_token_list_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  ImzalaTokenList *self = IMZALA_TOKEN_LIST (object);

  switch (prop_id)
    {
    case PROP_MODULE_SET:
      g_value_set_object (value, self->module_set);
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_token_list_class_init (ImzalaTokenListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = imzala_token_list_dispose;
  object_class->finalize = imzala_token_list_finalize;
  object_class->get_property = imzala_token_list_get_property;

  properties[PROP_MODULE_SET] =
    g_param_spec_object ("module-set", NULL, NULL, IMZALA_TYPE_MODULE_SET, flags);
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE, flags);
  properties[PROP_ERROR] = g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
imzala_token_list_init (ImzalaTokenList *self)
{
  self->tokens = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable = g_cancellable_new ();
  self->queued = g_ptr_array_new_with_free_func (g_object_unref);
}

ImzalaTokenList *
imzala_token_list_new (ImzalaModuleSet *module_set)
{
  ImzalaTokenList *self;

  g_return_val_if_fail (IMZALA_IS_MODULE_SET (module_set), NULL);

  self = g_object_new (IMZALA_TYPE_TOKEN_LIST, NULL);
  self->module_set = g_object_ref (module_set);
  return self;
}
