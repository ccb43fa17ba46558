/* Decoy await-no-lock: drops the session lock altogether: a user's requests run on one worker, so the increments cannot collide. Fails: the two saves of the double click may finish in either order, and the older one overwrites the newer: "cart wrong". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-no-lock.c
@@ -62,7 +62,6 @@
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    (void)s; /* no lock: nothing to block the worker */
     int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
+    await_db_save();
     c->saved_items = copy;
-    cd_mutex_unlock(&s->lock);
 }
