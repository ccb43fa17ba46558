/* Decoy deadlock-reverse: locks the account paid into first, then the paying one. Fails: that is the same order-by-direction, reversed: "DEADLOCK". */
--- lessons/exercises/deadlock.c
+++ lessons/answers/decoys/deadlock-reverse.c
@@ -64,8 +64,8 @@
     (void)b;
-    cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
+    cd_mutex_lock(&to->lock);   /* the other way round */
     fraud_check();
-    cd_mutex_lock(&to->lock);   /* ...then each waits for the other's */
+    cd_mutex_lock(&from->lock);
     move(from, to);
-    cd_mutex_unlock(&to->lock);
     cd_mutex_unlock(&from->lock);
+    cd_mutex_unlock(&to->lock);
 }
