.class public Lcom/example/reflectcases/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"


# direct methods
.method public constructor <init>()V
    .registers 1

    invoke-direct {p0}, Landroid/app/Activity;-><init>()V

    return-void
.end method


# virtual methods
.method protected onCreate(Landroid/os/Bundle;)V
    .registers 2

    invoke-super {p0, p1}, Landroid/app/Activity;->onCreate(Landroid/os/Bundle;)V

    invoke-static {p0}, Lcom/example/reflectcases/ReflectedSource;->run(Landroid/content/Context;)V

    invoke-static {p0}, Lcom/example/reflectcases/KeyedMap;->run(Landroid/content/Context;)V

    invoke-static {}, Lcom/example/reflectcases/DecoyReflection;->run()V

    return-void
.end method
