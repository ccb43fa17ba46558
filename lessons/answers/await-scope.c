/* Another answer, await: the blocking lock only around the edits: copy, let go, await the save, lock again to write back (the lines marked FIX). */
--- lessons/exercises/await.c
+++ lessons/answers/await-scope.c
@@ -51,10 +51,13 @@
  * The save awaits the database (5 ms): the worker runs other tasks. */
 static void add_item(session_t *s)
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    cd_mutex_lock(&s->lock);
     int copy = ++s->items;
-    cd_await_latency("db-save", SAVE_USEC); /* ...held across an await */
-    s->saved_items = copy;
+    cd_mutex_unlock(&s->lock);              /* FIX: let go before the await */
+    cd_await_latency("db-save", SAVE_USEC);
+    cd_mutex_lock(&s->lock);                /* FIX: back in to write back, */
+    if (copy > s->saved_items)              /* FIX: unless a newer cart was */
+        s->saved_items = copy;              /* saved meanwhile */
     cd_mutex_unlock(&s->lock);
 }
 
