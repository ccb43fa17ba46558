/* Decoy await-wait-if-busy: a request that finds the session busy first awaits 6 ms - longer than a save, under the database's own name "db-save" - and then takes the blocking lock, free by then. Fails: a wait orders nothing; when it ends first, the blocking lock stalls the worker as before: "a worker stalled". */
--- lessons/exercises/await.c
+++ lessons/answers/decoys/await-wait-if-busy.c
@@ -29,2 +29,3 @@
     cd_mutex_t lock;  /* guards the cart */
+    int busy;         /* a request holds the lock (one worker per user) */
 };
@@ -62,6 +63,12 @@
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
+    /* The lock is taken: await the other save first (the database's own
+     * name and more than its 5 ms), so that the lock is free by then. */
+    if (s->busy)
+        cd_await_latency("db-save", 6000);
+    cd_mutex_lock(&s->lock);
+    s->busy = 1;
     int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
+    await_db_save();
     c->saved_items = copy;
+    s->busy = 0;
     cd_mutex_unlock(&s->lock);
