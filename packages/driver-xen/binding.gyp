{
  "targets": [
    {
      "target_name": "xen",
      "sources": ["src/native/xen.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS", "__XEN_TOOLS__=1"],
      "cflags_cc": ["-std=gnu++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lxenctrl", "-lxenforeignmemory", "-lxenstore", "-lxentoollog"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
