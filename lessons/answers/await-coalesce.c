/* Another answer, await: one save in flight per cart - a request that finds one running leaves its item to it, and the saver saves again until the cart is up to date - with the blocking lock only around the edits, never across the await (the lines marked FIX). */
--- lessons/exercises/await.c
+++ lessons/answers/await-coalesce.c
@@ -29,2 +29,3 @@
     cd_mutex_t lock;  /* guards the cart */
+    int saving;       /* FIX: a save of this cart is in flight */
 };
@@ -62,6 +63,17 @@
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
