/* Decoy await-zero-save: saves with an await of no time at all (cd_await_latency("db-save", 0)), so that the lock is held across an await that ends at once. Fails: the task still parks at the await and the second request still blocks the worker: "a worker stalled". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-zero-save.c
@@ -26,2 +26,4 @@
 
+#include "cd_exec.h" /* cd_await_latency */
+
 /* One user's session. Change the lock if your fix needs another kind. */
@@ -64,3 +66,3 @@
     int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
+    cd_await_latency("db-save", 0);         /* a save that takes no time */
     c->saved_items = copy;
