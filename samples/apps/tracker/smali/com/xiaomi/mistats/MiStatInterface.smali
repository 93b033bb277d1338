.class public Lcom/xiaomi/mistats/MiStatInterface;
.super Ljava/lang/Object;
.source "MiStatInterface.java"


# static fields
.field public static final STAT_HOST:Ljava/lang/String; = "data.mistat.xiaomi.com"

.field public static final TRACK_HOST:Ljava/lang/String; = "tracking.miui.com"


# direct methods
.method public constructor <init>()V
    .registers 1

    invoke-direct {p0}, Ljava/lang/Object;-><init>()V

    return-void
.end method

.method public static recordCountEvent(Ljava/lang/String;Ljava/lang/String;)V
    .registers 6

    new-instance v0, Ljava/net/URL;

    const-string v1, "https"

    const-string v2, "data.mistat.xiaomi.com"

    const-string v3, "/mistats/v3"

    invoke-direct {v0, v1, v2, v3}, Ljava/net/URL;-><init>(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)V

    invoke-virtual {v0}, Ljava/net/URL;->openConnection()Ljava/net/URLConnection;

    move-result-object v0

    invoke-virtual {v0}, Ljava/net/URLConnection;->connect()V

    new-instance v0, Ljava/net/URL;

    const-string v2, "tracking.miui.com"

    const-string v3, "/track/v4"

    invoke-direct {v0, v1, v2, v3}, Ljava/net/URL;-><init>(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)V

    invoke-virtual {v0}, Ljava/net/URL;->openConnection()Ljava/net/URLConnection;

    move-result-object v0

    invoke-virtual {v0}, Ljava/net/URLConnection;->connect()V

    return-void
.end method
