.class public Lcom/example/nativeurl/Beacon;
.super Ljava/lang/Object;
.source "Beacon.java"


# direct methods
.method static constructor <clinit>()V
    .registers 1

    const-string v0, "beacon"

    invoke-static {v0}, Ljava/lang/System;->loadLibrary(Ljava/lang/String;)V

    return-void
.end method

.method public constructor <init>()V
    .registers 1

    invoke-direct {p0}, Ljava/lang/Object;-><init>()V

    return-void
.end method

.method public static native configUrl()Ljava/lang/String;
.end method

.method public static native fallbackHost()Ljava/lang/String;
.end method
