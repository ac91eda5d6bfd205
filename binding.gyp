{
  "targets": [
    {
      "target_name": "bpf_sys",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["lib/kernel/bpf_sys.c"],
          "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
        }],
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
