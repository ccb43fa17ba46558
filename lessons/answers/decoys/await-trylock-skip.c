/* Decoy await-trylock-skip: tries the session lock and drops the request when it is taken. Fails: nothing blocks, but the double click loses an item: "cart wrong". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-trylock-skip.c
@@ -51,9 +51,10 @@
  * The save awaits the database (5 ms): the worker runs other tasks. */
 static void add_item(session_t *s)
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    if (cd_mutex_trylock(&s->lock) != 0)
+        return; /* busy: the other request is saving this cart */
     int copy = ++s->items;
-    cd_await_latency("db-save", SAVE_USEC); /* ...held across an await */
+    cd_await_latency("db-save", SAVE_USEC);
     s->saved_items = copy;
     cd_mutex_unlock(&s->lock);
 }
