"""Parts of pages (tabs, forms, panels): not pages themselves, so app.py's navigation never lists them."""
