/* Decoy await-blocking-save: saves with a blocking call, so no await happens while the lock is held. Fails: nothing stalls, but the worker does one save at a time: "the saves never overlap". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-blocking-save.c
@@ -29,6 +29,8 @@
 
 /* =============================== your code =============================== */
 
+#include "cd_thread.h" /* cd_latency: a blocking wait */
+
 /* One user's session. Change the lock if your fix needs another kind. */
 typedef struct session {
     int items;        /* the cart in memory */
@@ -51,9 +53,9 @@
  * The save awaits the database (5 ms): the worker runs other tasks. */
 static void add_item(session_t *s)
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    cd_mutex_lock(&s->lock);
     int copy = ++s->items;
-    cd_await_latency("db-save", SAVE_USEC); /* ...held across an await */
+    cd_latency("db-save", SAVE_USEC); /* save without an await */
     s->saved_items = copy;
     cd_mutex_unlock(&s->lock);
 }
