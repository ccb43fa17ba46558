/* Decoy await-blocking-save: sleeps like a save with a blocking call, so no await happens while the lock is held. Fails: nothing stalls, but no save reached the database - a sleep is no save: "no save of the whole cart reached the database"; and a blocking sleep inside a task holds up its worker. */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-blocking-save.c
@@ -26,2 +26,4 @@
 
+#include "cd_thread.h" /* cd_latency: a blocking wait */
+
 /* One user's session. Change the lock if your fix needs another kind. */
@@ -62,5 +64,5 @@
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    cd_mutex_lock(&s->lock);
     int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
+    cd_latency("db-save", 5000); /* save without an await */
     c->saved_items = copy;
