/* Decoy await-zero-save: saves with an await of no time at all (cd_await_latency("db-save", 0)), so that the lock is held across an await that ends at once. Fails: the task still parks at the await and the second request still blocks the worker: "a worker stalled". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-zero-save.c
@@ -24,6 +24,8 @@
 #include "cd_registry.h"
 #include "harness/await.h"
 
+#include "cd_exec.h" /* cd_await_latency */
+
 /* One user's session. Change the lock if your fix needs another kind. */
 struct session {
     cd_mutex_t lock;  /* guards the cart */
@@ -62,7 +64,7 @@
 {
     cd_mutex_lock(&s->lock);                /* a blocking lock... */
     int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
+    cd_await_latency("db-save", 0);         /* a save that takes no time */
     c->saved_items = copy;
     cd_mutex_unlock(&s->lock);
 }
