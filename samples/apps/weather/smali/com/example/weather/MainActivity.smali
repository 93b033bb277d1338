.class public Lcom/example/weather/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"


# direct methods
.method public constructor <init>()V
    .registers 1

    invoke-direct {p0}, Landroid/app/Activity;-><init>()V

    return-void
.end method

.method public static fetchForecast()Ljava/io/InputStream;
    .registers 2

    new-instance v0, Ljava/net/URL;

    const-string v1, "https://api.example-weather.com/v1/forecast?city=Berlin"

    invoke-direct {v0, v1}, Ljava/net/URL;-><init>(Ljava/lang/String;)V

    invoke-virtual {v0}, Ljava/net/URL;->openStream()Ljava/io/InputStream;

    move-result-object v0

    return-object v0
.end method


# virtual methods
.method protected onCreate(Landroid/os/Bundle;)V
    .registers 2

    invoke-super {p0, p1}, Landroid/app/Activity;->onCreate(Landroid/os/Bundle;)V

    invoke-static {}, Lcom/example/weather/MainActivity;->fetchForecast()Ljava/io/InputStream;

    return-void
.end method
