.class public Lcom/example/flowcases/DecoyUnusedEndpoint;
.super Ljava/lang/Object;
.source "DecoyUnusedEndpoint.java"

# static fields
.field public static final LEGACY_ENDPOINT:Ljava/lang/String; = "https://unused.example-telemetry.cn/legacy"


# direct methods
.method public constructor <init>()V
    .registers 1

    invoke-direct {p0}, Ljava/lang/Object;-><init>()V

    return-void
.end method

# Decoy B: an endpoint constant that no network call ever uses; only its length is taken.
.method public static describe()I
    .registers 2

    const-string v0, "https://unused.example-telemetry.cn/legacy"

    invoke-virtual {v0}, Ljava/lang/String;->length()I

    move-result v1

    return v1
.end method
