/* Another answer, await: one save in flight per cart - a request that finds one running leaves its item to it, and the saver saves again until the cart is up to date - with the blocking lock only around the edits, never across the await (the lines marked FIX). */
--- lessons/exercises/await.c
+++ lessons/answers/await-coalesce.c
@@ -27,6 +27,7 @@
 /* One user's session. Change the lock if your fix needs another kind. */
 struct session {
     cd_mutex_t lock;  /* guards the cart */
+    int saving;       /* FIX: a save of this cart is in flight */
 };
 
 /* Sets up a session's lock before the requests start: 0, or -1. */
@@ -60,9 +61,20 @@
  * The save awaits the database (5 ms): the worker runs other tasks. */
 void add_item(session_t *s, cart_t *c)
 {
-    cd_mutex_lock(&s->lock);                /* a blocking lock... */
-    int copy = ++c->items;
-    await_db_save();                        /* ...held across an await */
-    c->saved_items = copy;
+    cd_mutex_lock(&s->lock);
+    ++c->items;
+    if (s->saving) {              /* FIX: the save in flight is this */
+        cd_mutex_unlock(&s->lock);/* cart's queue: it saves this item */
+        return;                   /* too, before it ends */
+    }
+    s->saving = 1;
+    while (c->saved_items != c->items) { /* FIX: save until up to date */
+        int copy = c->items;
+        cd_mutex_unlock(&s->lock);       /* FIX: no lock across the await */
+        await_db_save();
+        cd_mutex_lock(&s->lock);
+        c->saved_items = copy;
+    }
+    s->saving = 0;
     cd_mutex_unlock(&s->lock);
 }
