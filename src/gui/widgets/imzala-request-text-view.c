/* imzala-request-text-view.c: one text of a request as the sign page shows
 * it, its title and its exact bytes in a read-only text view (moved out of
 * imzala-sign-page.c).
 */
#include "config.h"

#include <glib/gi18n.h>

#include "imzala-request-text-view.h"

GtkWidget *
imzala_request_text_view_new (ImzalaRequestText *text,
                              guint              index)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  const char *title = imzala_request_text_get_title (text);
  const char *content = imzala_request_text_get_text (text);
  g_autofree char *fallback_title = NULL;
  GtkWidget *heading;

  if (title == NULL || *title == '\0')
    {
      /* Translators: İmzalanacak Metin 1, 2, ... */
      fallback_title = g_strdup_printf (_("Text to sign %u"), index + 1);
      title = fallback_title;
    }

  heading = gtk_label_new (title);
  gtk_label_set_use_markup (GTK_LABEL (heading), FALSE);
  gtk_label_set_xalign (GTK_LABEL (heading), 0.0);
  gtk_label_set_wrap (GTK_LABEL (heading), TRUE);
  gtk_widget_add_css_class (heading, "heading");
  gtk_box_append (GTK_BOX (box), heading);

  if (content == NULL)
    {
      GtkWidget *warning = gtk_label_new (_("This text cannot be shown exactly, so İmzala will not sign it."));

      gtk_label_set_wrap (GTK_LABEL (warning), TRUE);
      gtk_label_set_xalign (GTK_LABEL (warning), 0.0);
      gtk_widget_add_css_class (warning, "error");
      gtk_box_append (GTK_BOX (box), warning);
    }
  else
    {
      GtkWidget *frame = gtk_frame_new (NULL);
      GtkWidget *scrolled = gtk_scrolled_window_new ();
      GtkWidget *view = gtk_text_view_new ();

      /* A text view shows the bytes as they are: no markup, no links, and
       * the user can select and copy every character that will be signed. */
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)), content, -1);
      gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
      gtk_text_view_set_cursor_visible (GTK_TEXT_VIEW (view), FALSE);
      gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
      gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 8);
      gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 8);
      gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 12);
      gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 12);
      gtk_accessible_update_property (GTK_ACCESSIBLE (view),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                      GTK_ACCESSIBLE_PROPERTY_READ_ONLY, TRUE,
                                      -1);
      gtk_widget_add_css_class (view, "signed-text");

      gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
      gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
      gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 120);
      gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 240);
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
      gtk_frame_set_child (GTK_FRAME (frame), scrolled);
      gtk_box_append (GTK_BOX (box), frame);
    }

  return box;
}
