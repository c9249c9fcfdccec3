"""The RL bridge: token-exact training samples from the farm's episodes, group advantages, the
files verl, SkyRL and TRL read, the trainer-side log-probability check, and the trainers' adapters."""
