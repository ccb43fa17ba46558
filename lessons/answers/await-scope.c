/* Another answer, await: the blocking lock only around the edits: copy, let go, await the save, lock again to write back (the lines marked FIX). */
--- lessons/exercises/await.c
+++ lessons/answers/await-scope.c
@@ -62,6 +62,9 @@
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    cd_mutex_lock(&s->lock);
     int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
-    c->saved_items = copy;
+    cd_mutex_unlock(&s->lock);              /* FIX: let go before the await */
+    await_db_save();
+    cd_mutex_lock(&s->lock);                /* FIX: back in to write back, */
+    if (copy > c->saved_items)              /* FIX: unless a newer cart was */
+        c->saved_items = copy;              /* saved meanwhile */
     cd_mutex_unlock(&s->lock);
