package controller

// PatchStatus is patchStatus, for the envtest suite.
var PatchStatus = patchStatus
