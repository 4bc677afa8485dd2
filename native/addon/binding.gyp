{
  "targets": [
    {
      "target_name": "berth_addon",
      "sources": ["berth_addon.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
