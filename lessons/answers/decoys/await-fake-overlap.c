/* Decoy await-fake-overlap: saves with a blocking 5 ms wait (its name held in a variable) so that no await happens under the lock, and first awaits 1 us under the name "db-save", every request at once, so that saves seem to overlap. Fails: the worker still makes one real save at a time: "no save of the whole cart reached the database". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-fake-overlap.c
@@ -26,2 +26,4 @@
 
+#include "cd_thread.h" /* cd_latency: a blocking wait */
+
 /* One user's session. Change the lock if your fix needs another kind. */
@@ -58,2 +60,5 @@
 
+/* Named in a variable: a scan of the source cannot read it. */
+static const char *const save_name = "db-save";
+
 /* One request (an async task): adds an item to the cart and saves it.
@@ -62,5 +67,6 @@
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    cd_await_latency("db-save", 1); /* every request "saves" at once */
+    cd_mutex_lock(&s->lock);
     int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
+    cd_latency(save_name, 5000);    /* save without an await */
     c->saved_items = copy;
