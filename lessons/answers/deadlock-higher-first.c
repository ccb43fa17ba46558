/* Another answer, deadlock: every transfer locks the higher account id first - another order, as good as the answer key's, since every transfer keeps it (the lines marked FIX). */
--- lessons/exercises/deadlock.c
+++ lessons/answers/deadlock-higher-first.c
@@ -63,9 +63,12 @@
 {
+    /* FIX: one order for every transfer: the higher account id first */
+    account_t *first = from->id > to->id ? from : to;
+    account_t *second = from->id > to->id ? to : from;
     (void)b;
-    cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
+    cd_mutex_lock(&first->lock);
     fraud_check();
-    cd_mutex_lock(&to->lock);   /* ...then each waits for the other's */
+    cd_mutex_lock(&second->lock);
     move(from, to);
-    cd_mutex_unlock(&to->lock);
-    cd_mutex_unlock(&from->lock);
+    cd_mutex_unlock(&second->lock);
+    cd_mutex_unlock(&first->lock);
 }
