/* Decoy await-trylock-skip: tries the session lock and drops the request when it is taken. Fails: nothing blocks, but the double click loses an item: "cart wrong". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-trylock-skip.c
@@ -62,5 +62,6 @@
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    if (cd_mutex_trylock(&s->lock) != 0)
+        return; /* busy: the other request is saving this cart */
     int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
+    await_db_save();
     c->saved_items = copy;
