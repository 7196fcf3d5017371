{
  "targets": [
    {
      "target_name": "qemuhacks",
      "type": "shared_library",
      "product_name": "qemuhacks",
      "product_prefix": "lib",
      "sources": ["native/qemuhacks.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "ldflags": ["-ldl", "-lpthread"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
