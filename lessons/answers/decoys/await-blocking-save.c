/* Decoy await-blocking-save: sleeps like a save with a blocking call, so no await happens while the lock is held. Fails: nothing stalls, but no save reached the database - a sleep is no save: "no save of the whole cart reached the database"; and a blocking sleep inside a task holds up its worker. */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-blocking-save.c
@@ -24,6 +24,8 @@
 #include "cd_registry.h"
 #include "harness/await.h"
 
+#include "cd_thread.h" /* cd_latency: a blocking wait */
+
 /* One user's session. Change the lock if your fix needs another kind. */
 struct session {
     cd_mutex_t lock;  /* guards the cart */
@@ -60,9 +62,9 @@
  * The save awaits the database (5 ms): the worker runs other tasks. */
 void add_item(session_t *s, cart_t *c)
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    cd_mutex_lock(&s->lock);
     int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
+    cd_latency("db-save", 5000); /* save without an await */
     c->saved_items = copy;
     cd_mutex_unlock(&s->lock);
 }
